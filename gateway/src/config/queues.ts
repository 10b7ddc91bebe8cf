/** The `queues` section: each queue's tenant, ringing, waiting, flows, hours and voicemail. */
import { z } from 'zod';
import { businessHours, queueFlows, queueWaiting } from './flow-config.js';
import { voicemailSettings } from './voicemail.js';

export const queue = z.strictObject({
  tenant: z.string().min(1),
  /** How long one agent rings before the next is tried. */
  ringTimeoutSeconds: z.number().int().min(1).max(300).default(20),
  /** How many agents are tried before the visitor is told no one answered. */
  maxAttempts: z.number().int().min(1).max(50).default(3),
  /** One agent at a time, or the top `ringAtOnce` at once (first to answer wins). */
  strategy: z.enum(['sequential', 'simultaneous']).default('sequential'),
  /** With `simultaneous`: how many ring together. The only default (routing/queues.ts adds none). */
  ringAtOnce: z.number().int().min(1).max(10).default(2),
  /** Customer value band → agent tiers that serve it, best first (value routing). */
  bands: z.record(z.string(), z.array(z.string()).min(1)).default({}),
  /** After a call, the agent gets this long without calls (wrap-up). */
  wrapUpSeconds: z.number().int().min(0).max(3600).default(0),
  /** Callers wait when every agent is busy (music, announcements); absent: refused as before. */
  waiting: queueWaiting.optional(),
  /** Flows run when no agent takes the call (names in `flows`). */
  flows: queueFlows.optional(),
  /** Outside these hours callers get `flows.closed` (or the built-in apology). */
  businessHours: businessHours.optional(),
  /** Live voicemail when every agent rang out, none is signed in, outside `businessHours`, or at `waiting.maxWaitSeconds` (docs/voicemail.md). */
  voicemail: voicemailSettings.optional(),
});
