/**
 * The config keys of flows and queueing (docs/flows.md, docs/configuration.md):
 * `flows.<name>`, a queue's `waiting`, `flows` and `businessHours`,
 * `prompts`. The verbs themselves are the flow schema's
 * (`flows/verbs/schema.ts`), so a flow is checked the same way in the config
 * and from a webhook.
 */
import { z } from 'zod';
import { WEEKDAYS } from '@parley/shared/screening';
import { verbsSchema } from '../flows/verbs/schema.js';

export const flowName = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'a flow name: A-Z a-z 0-9 . _ -');

/** Verbs written in the config: there is no app to send an actionHook to. */
const configVerbs = verbsSchema.superRefine((verbs, ctx) => {
  verbs.forEach((verb, index) => {
    if ('actionHook' in verb && verb.actionHook !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [index, 'actionHook'],
        message: 'actionHook needs a webhook or module flow',
      });
  });
});

const webhookFlow = z.strictObject({
  webhook: z.strictObject({
    /** `POST` with the call's context answers the verbs; actionHook follow-ups go here too. */
    url: z.url({ protocol: /^https?$/ }),
    /** Status callbacks (every event of the call); default `url`. */
    statusUrl: z.url({ protocol: /^https?$/ }).optional(),
    timeoutMs: z.number().int().min(100).max(30_000).default(3000),
    /** Signs each request: `X-Parley-Signature: t=…,v1=<HMAC-SHA256>`. */
    secret: z.string().min(16).optional(),
    /** Send status callbacks. */
    statusEvents: z.boolean().default(true),
    /** The flow that runs when the webhook fails (default: the built-in apology). */
    fallback: flowName.optional(),
  }),
});

const moduleFlow = z.strictObject({
  module: z.strictObject({
    /** An ES module whose default export is `(request) => verbs`, relative to the config file. */
    path: z.string().min(1),
    timeoutMs: z.number().int().min(10).max(10_000).default(1000),
    fallback: flowName.optional(),
  }),
});

/** `flows.<name>`: a list of verbs, `{ verbs }`, `{ webhook }` or `{ module }`. */
export const flowDefinition = z.union([
  configVerbs,
  z.strictObject({ verbs: configVerbs }),
  webhookFlow,
  moduleFlow,
]);

const audio = z
  .strictObject({
    /** A WAV file under `prompts.dirs` (relative to the first). */
    file: z.string().min(1).optional(),
    /** Or a URL under `prompts.urls`. */
    url: z.url().optional(),
  })
  .refine((a) => (a.file === undefined) !== (a.url === undefined), 'give file or url');

/** `queues.<name>.waiting`: callers of a busy queue wait instead of being refused. */
export const queueWaiting = z.strictObject({
  maxWaitSeconds: z.number().int().min(1).max(86_400).default(600),
  maxCallers: z.number().int().min(1).max(100_000).default(100),
  /** Looped while waiting; default the built-in tone. */
  music: audio.optional(),
  /** The built-in tone's pitch. */
  toneHz: z.number().int().min(100).max(3400).default(440),
  /** The place and wait are said this often (0: only on joining). */
  announceEverySeconds: z.number().int().min(0).max(3600).default(60),
  announcement: z
    .string()
    .min(1)
    .max(500)
    .default('You are number {position} in the queue. The wait is about {minutes}.'),
  voice: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/)
    .optional(),
  /** Said by the built-in fallback before it hangs up. */
  unavailableText: z
    .string()
    .min(1)
    .max(500)
    .default('We are sorry, no one can take your call right now. Please try again later.'),
  /** The handle time the estimated wait uses until agents have handled calls. */
  defaultHandleSeconds: z.number().int().min(1).max(36_000).default(180),
});

/** `queues.<name>.flows`: what runs when no agent takes the call. */
export const queueFlows = z.strictObject({
  /** Every agent rang out, the queue is full, or no agent is signed in. */
  noAnswer: flowName.optional(),
  /** Outside `businessHours`. */
  closed: flowName.optional(),
  /** After `waiting.maxWaitSeconds`. */
  maxWait: flowName.optional(),
});

/** `queues.<name>.businessHours` (the same shape as screening's). */
export const businessHours = z.strictObject({
  timeZone: z.string().min(1),
  weekly: z.partialRecord(z.enum(WEEKDAYS), z.array(z.tuple([z.string(), z.string()]))),
  closed: z.array(z.string()).default([]),
});

/** `prompts`: where `play` (and queue music) may read audio from. */
export const prompts = z.strictObject({
  /** Directories of WAV files, relative to the config file. */
  dirs: z.array(z.string().min(1)).default([]),
  /** URL prefixes audio may be fetched from. */
  urls: z.array(z.url({ protocol: /^https?$/ })).default([]),
  fetchTimeoutMs: z.number().int().min(100).max(30_000).default(3000),
  maxBytes: z.number().int().min(1024).max(100_000_000).default(5_000_000),
  cacheSeconds: z.number().int().min(0).max(86_400).default(300),
});

/**
 * Flow names a config refers to, with where: every one must be a key of
 * `flows`. Trunk numbers (`trunks.<id>.inbound.numbers[].flow`) are checked
 * too when the config has trunks.
 */
export function flowReferences(config: {
  readonly flows: Readonly<Record<string, unknown>>;
  readonly tenants: Readonly<Record<string, { readonly defaultFlow?: string | undefined }>>;
  readonly queues: Readonly<
    Record<string, { readonly flows?: Readonly<Record<string, string | undefined>> | undefined }>
  >;
  readonly trunks?: Readonly<
    Record<
      string,
      {
        readonly inbound?:
          | { readonly numbers?: readonly { readonly flow?: string | undefined }[] | undefined }
          | undefined;
      }
    >
  >;
}): { path: string; flow: string }[] {
  const refs: { path: string; flow: string }[] = [];
  for (const [id, t] of Object.entries(config.tenants))
    if (t.defaultFlow !== undefined)
      refs.push({ path: `tenants.${id}.defaultFlow`, flow: t.defaultFlow });
  for (const [name, q] of Object.entries(config.queues))
    for (const [key, flow] of Object.entries(q.flows ?? {}))
      if (flow !== undefined) refs.push({ path: `queues.${name}.flows.${key}`, flow });
  for (const [id, trunk] of Object.entries(config.trunks ?? {}))
    (trunk.inbound?.numbers ?? []).forEach((number, index) => {
      if (number.flow !== undefined)
        refs.push({ path: `trunks.${id}.inbound.numbers.${index}.flow`, flow: number.flow });
    });
  for (const [name, flow] of Object.entries(config.flows)) {
    const list = Array.isArray(flow) ? flow : (flow as { verbs?: unknown[] }).verbs;
    const source =
      (flow as { webhook?: { fallback?: string }; module?: { fallback?: string } }) ?? {};
    const fallback = source.webhook?.fallback ?? source.module?.fallback;
    if (fallback !== undefined) refs.push({ path: `flows.${name}.fallback`, flow: fallback });
    (list ?? []).forEach((verb, index) => {
      const v = verb as { verb?: string; flow?: string };
      if (v.verb === 'redirect' && v.flow !== undefined)
        refs.push({ path: `flows.${name}.${index}.flow`, flow: v.flow });
    });
  }
  return refs;
}
