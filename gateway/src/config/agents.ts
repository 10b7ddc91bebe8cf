/** The `agents` section: each agent of the config file, and the values checked in its SIP headers. */
import { z } from 'zod';
import { checkAgentContact } from '../sip/message/agent-contact.js';
import { voicemailSettings } from './voicemail.js';

/** A SIP URI an agent is reached at: no URI headers, no control characters. */
export const sipContact = z
  .string()
  .max(512)
  .refine((value) => checkAgentContact(value) === undefined, {
    error: (issue) => checkAgentContact(String(issue.input)) ?? 'not a SIP URI',
  });
/** A display name that goes into SIP headers: printable text only. */
export const displayName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}\p{Zl}\p{Zp}]+$/u, 'no control characters');

export const agent = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]+$/),
  tenant: z.string().min(1),
  /** Digest username (default: id). */
  username: z.string().min(1).optional(),
  password: z.string().min(1),
  displayName: displayName.optional(),
  queues: z.array(z.string().min(1)).min(1),
  /**
   * A fixed contact (a PBX extension, a trunk): the agent is reachable there
   * without registering, e.g. `sip:2001@pbx.example:5060;transport=tcp`.
   */
  contact: sipContact.optional(),
  /** Seniority band queues match to customer value (`senior`, `junior`…). */
  tier: z.string().optional(),
  skills: z.array(z.string()).optional(),
  /** Overrides sip.digestAlgorithms for this agent's phone. */
  digestAlgorithms: z
    .array(z.enum(['SHA-256', 'MD5']))
    .min(1)
    .optional(),
  /** Calls at once before the agent counts as busy. */
  maxCalls: z.number().int().min(1).max(10).default(1),
  /** The agent's own box: a direct call (a flow's `dial` of this agent) they do not answer (docs/voicemail.md). */
  voicemail: voicemailSettings.optional(),
});
