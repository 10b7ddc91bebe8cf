/**
 * The configuration's schema: every section, each defined in its own file
 * (`tenants.ts`, `sip.ts`, `agents.ts`, `queues.ts`, `media.ts`, `http.ts`,
 * `trunks.ts`, `flow-config.ts`, `cluster.ts`…) and assembled here.
 */
import { z } from 'zod';
import { agent } from './agents.js';
import { callbacks } from './callbacks.js';
import { shared, storage } from './cluster.js';
import { flowDefinition, flowName, prompts } from './flow-config.js';
import { api, http } from './http.js';
import { marketplace } from './marketplace.js';
import { media } from './media.js';
import { queue } from './queues.js';
import { sip } from './sip.js';
import { speech } from './speech.js';
import { jwkOrFile, tenant } from './tenants.js';
import { trunk } from './trunks.js';
import { voicemailSection } from './voicemail.js';

export { API_SCOPES, type ApiScope } from './http.js';
export { displayName, sipContact } from './agents.js';

export const configSchema = z.strictObject({
  /** This gateway's id: tokens must name it in `aud`. */
  gatewayId: z.string().min(1),
  /**
   * On SIGTERM the gateway drains: OPTIONS are answered 503 (a SIP proxy in
   * front stops sending it calls), new calls are refused, and calls in
   * progress get this long to finish before the rest are ended with
   * `gateway_shutdown` (docs/scaling.md).
   */
  drainTimeoutSeconds: z.number().int().min(0).max(86_400).default(30),
  /** Visitors whose connection drops mid-call (docs/scaling.md, "Visitors that survive the network"). */
  visitors: z
    .strictObject({
      /**
       * A browser visitor's answered call outlives its WebSocket this long:
       * the widget reconnects and rebinds the call (with a proof only its
       * token can make); 0 ends the call when the connection closes.
       */
      reconnectGraceSeconds: z.number().int().min(0).max(300).default(20),
    })
    .prefault({}),
  http: http.prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  tokens: z.strictObject({
    /** The gateway's private encryption keys (ECDH-ES+A256KW), inline or files; the first is current. */
    encryptionKeys: z.array(jwkOrFile).min(1),
    clockToleranceSeconds: z.number().int().min(0).max(60).default(5),
    maxTokenBytes: z.number().int().min(512).max(65536).default(8192),
  }),
  tenants: z.record(z.string().min(1), tenant).refine((t) => Object.keys(t).length > 0, {
    message: 'at least one tenant is required',
  }),
  sip: sip.prefault({}),
  agents: z.array(agent).default([]),
  queues: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/), queue).default({}),
  /** Flows by name: verbs, a webhook or a module (docs/flows.md). */
  flows: z.record(flowName, flowDefinition).default({}),
  /** Where `play` and queue music may read audio. */
  prompts: prompts.prefault({}),
  /** Carrier SIP trunks to the telephone network (docs/trunks.md). */
  trunks: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/), trunk).default({}),
  numbers: z
    .strictObject({
      ranges: z
        .array(z.strictObject({ from: z.string(), to: z.string() }))
        .default([{ from: '+15550100', to: '+15550198' }]),
      fallback: z
        .string()
        .regex(/^\+[1-9]\d{1,14}$/)
        .default('+15550199'),
      graceSeconds: z.number().int().min(0).default(1800),
    })
    .prefault({}),
  media: media.prefault({}),
  api: api.prefault({}),
  desk: z
    .strictObject({
      /** The built desk bundle (widget/dist, with desk.js). Default: the workspace's widget/dist. */
      assetsDir: z.string().optional(),
      /** Signs desk session cookies; random per start when absent (sessions end on restart). */
      sessionSecret: z.string().min(16).optional(),
    })
    .prefault({}),
  marketplace: marketplace.prefault({}),
  /** What must last: SQLite (default) or PostgreSQL (docs/scaling.md). */
  storage: storage.prefault({}),
  /** The hot state several gateways share (Redis), and each gateway's lease. */
  shared: shared.prefault({}),
  /** Text to speech (flite) and speech to text (pocketsphinx or a company's recogniser). */
  speech: speech.prefault({}),
  /** Voicemail records: retention, webhook retries (docs/voicemail.md). */
  voicemail: voicemailSection.prefault({}),
  /** Callbacks: the customer is called first, the advertiser after "1" (docs/callbacks.md). */
  callbacks,
});

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;
export type TenantConfig = Parsed['tenants'][string];
export type TrunkConfig = Parsed['trunks'][string];
export type { Parsed as ParsedConfig };
