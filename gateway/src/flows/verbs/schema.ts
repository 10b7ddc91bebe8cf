/**
 * Flow definitions: an ordered list of verbs, each `{ "verb": "<name>", …options }`
 * (jambonz's JSON form; TwiML's verbs as JSON). The same schema checks flows
 * in the config, from a company's webhook and from its module, so a bad verb
 * is reported the same way wherever it came from. Reference: docs/flows.md.
 */
import { z } from 'zod';
import { ERROR_CODES } from '@parley/shared/errors';
import { FLOW_VERBS, type VerbName as SharedVerbName } from '@parley/shared/protocol';

/** Verbs in one flow (one config entry, one webhook answer). */
export const MAX_VERBS = 100;

const DIGITS = /^[0-9*#A-D]*$/;
const keys = z.string().max(16).regex(DIGITS, 'keys are 0-9, *, #, A-D');

/**
 * `true`: any key stops the prompt; a string: only these keys. The key is
 * kept for a `gather` that follows (type-ahead).
 */
const interruptible = z.union([z.boolean(), keys.min(1)]).default(false);

/**
 * Where a verb's result goes as a follow-up request (TwiML's `action`,
 * jambonz's `actionHook`): `true` is the flow's own webhook URL or module; a
 * string is a URL on the webhook's origin. The answer's verbs replace the rest
 * of the flow. Only in webhook and module flows.
 */
const actionHook = z.union([z.literal(true), z.url()]).optional();

const voice = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,40}$/, 'a voice name such as kal, slt, awb')
  .optional();

/** 0 repeats until interrupted or the caller hangs up (TwiML's loop="0"). */
const loop = z.number().int().min(0).max(1000).default(1);

const text = z.string().trim().min(1).max(2000);

export const sayVerb = z.strictObject({
  verb: z.literal('say'),
  text,
  voice,
  loop,
  interruptible,
  actionHook,
});

/** A WAV file under one of `prompts.dirs` (relative to the first), or a URL under `prompts.urls`. */
const audioRef = {
  file: z.string().min(1).max(1024).optional(),
  url: z.url().optional(),
};
const oneAudio = (v: { file?: string | undefined; url?: string | undefined }) =>
  (v.file === undefined) !== (v.url === undefined);

export const playVerb = z
  .strictObject({
    verb: z.literal('play'),
    ...audioRef,
    loop,
    interruptible,
    actionHook,
  })
  .refine(oneAudio, 'give file or url');

/** The prompt a gather plays until the first key. */
const gatherPrompt = z.union([
  z.strictObject({ say: z.strictObject({ text, voice, loop }) }),
  z
    .strictObject({ play: z.strictObject({ ...audioRef, loop }) })
    .refine((p) => oneAudio(p.play), 'give play.file or play.url'),
]);

export const gatherVerb = z.strictObject({
  verb: z.literal('gather'),
  /** Stop after this many digits. */
  numDigits: z.number().int().min(1).max(64).optional(),
  /** Ends the input (not included in the digits); '' for none. TwiML's default. */
  finishOnKey: z.union([z.literal(''), z.string().length(1).regex(DIGITS)]).default('#'),
  /** Seconds to wait for the first key after the prompt, and between keys. */
  timeout: z.number().min(0.1).max(600).default(5),
  /** Seconds between keys, when different from `timeout`. */
  interDigitTimeout: z.number().min(0.1).max(600).optional(),
  prompt: gatherPrompt.optional(),
  actionHook,
});

export const recordVerb = z.strictObject({
  verb: z.literal('record'),
  /** The longest recording, in seconds (TwiML's maxLength). */
  maxLengthSeconds: z.number().int().min(1).max(14_400).default(3600),
  /** Stop after this many seconds of silence; 0: never (TwiML's timeout). */
  silenceTimeoutSeconds: z.number().min(0).max(600).default(5),
  /** Keys that stop the recording ('' for none). */
  finishOnKey: z.union([z.literal(''), keys.min(1)]).default('1234567890*#'),
  /** A short tone before recording starts (TwiML's playBeep). */
  beep: z.boolean().default(true),
  actionHook,
});

export const transcribeVerb = z.strictObject({
  verb: z.literal('transcribe'),
  /** Stop the transcription this call started (TwiML's <Stop><Transcription>). */
  stop: z.boolean().default(false),
  /** A BCP 47 language tag, passed to the recogniser. */
  language: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/)
    .default('en-US'),
  /** Partial results while the caller speaks (as events), besides the final one per utterance. */
  partialResults: z.boolean().default(true),
  actionHook,
});

const e164 = z.string().regex(/^\+[1-9]\d{1,14}$/, 'an E.164 number, e.g. +14155550100');
const name = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/);

export const dialTarget = z.discriminatedUnion('type', [
  /** Ring the queue's free agents now (value routing, its ring strategy); no waiting. */
  z.strictObject({ type: z.literal('queue'), queue: name }),
  z.strictObject({ type: z.literal('agent'), agent: name }),
  /** A number on the telephone network, through a trunk (the adapter picks one unless named). */
  z.strictObject({ type: z.literal('phone'), number: e164, trunk: name.optional() }),
  z.strictObject({ type: z.literal('sip'), uri: z.string().regex(/^sips?:[^\s<>"]{1,500}$/) }),
]);

export const dialVerb = z.strictObject({
  verb: z.literal('dial'),
  target: dialTarget,
  /** Seconds the target rings before `no-answer` (TwiML's timeout). */
  timeout: z.number().int().min(1).max(600).default(30),
  /** The caller ID shown to the target; default the call's session number (S6). */
  callerId: e164.optional(),
  /** The longest conversation once answered, in seconds (TwiML's timeLimit). */
  timeLimit: z.number().int().min(1).max(86_400).default(14_400),
  actionHook,
});

export const enqueueVerb = z.strictObject({
  verb: z.literal('enqueue'),
  queue: name,
  /** Overrides the queue's `waiting.maxWaitSeconds`. */
  maxWaitSeconds: z.number().int().min(1).max(86_400).optional(),
  actionHook,
});

export const pauseVerb = z.strictObject({
  verb: z.literal('pause'),
  /** Seconds (TwiML's length). */
  length: z.number().min(0).max(600).default(1),
  actionHook,
});

const HANGUP_REASONS = ['completed', 'busy', 'rejected'] as const;
const hangupReason = z
  .string()
  .refine(
    (r) => (HANGUP_REASONS as readonly string[]).includes(r) || Object.hasOwn(ERROR_CODES, r),
    'completed, busy, rejected, or an error code from docs/errors.md',
  );

export const hangupVerb = z.strictObject({
  verb: z.literal('hangup'),
  /**
   * Why, for the record and the SIP signalling: `completed` (default; before
   * the answer it is 603 Decline), `busy` (486), `rejected` (603), or an
   * error code (its SIP status and a Reason header).
   */
  reason: hangupReason.default('completed'),
});

/**
 * `voicemail`: the caller leaves a message in a box (docs/voicemail.md): a
 * queue's (`queue`) or an agent's own (`agent`), with its configured
 * greeting; the flow ends with the message, or goes on when the box has no
 * voicemail. A queue with `voicemail` and `waiting` runs it when a caller
 * waited `maxWaitSeconds`.
 */
export const voicemailVerb = z.strictObject({
  verb: z.literal('voicemail'),
  queue: name.optional(),
  agent: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .optional(),
  /** Why: `closed` plays the queue's `closedGreeting`; `max-wait` is what a queue's longest wait runs. */
  cause: z.enum(['no-answer', 'closed', 'max-wait']).default('no-answer'),
});

/**
 * `gate`: the call goes through a gated facility's authenticating server
 * (docs/gated.md, "Phone callers on a DID"): the caller's account (by number,
 * or the account number and PIN keyed), the resident, the device, the
 * balance; allowed, the resident's devices ring and the call is connected
 * once the resident is re-verified; refused, the caller hears the
 * not-available prompt and the call ends. Only on a gated tenant's call.
 */
export const gateVerb = z.strictObject({
  verb: z.literal('gate'),
  /**
   * The resident this line is for (their number, as the facility's API has
   * it): a DID per resident; the caller is not asked whom they call.
   */
  resident: z
    .string()
    .regex(/^\d{1,16}$/)
    .optional(),
});

export const redirectVerb = z.strictObject({
  verb: z.literal('redirect'),
  /** The flow that replaces this one (its name in `flows`). */
  flow: name,
});

export const verbSchema = z.discriminatedUnion('verb', [
  sayVerb,
  playVerb,
  gatherVerb,
  recordVerb,
  transcribeVerb,
  dialVerb,
  enqueueVerb,
  pauseVerb,
  hangupVerb,
  redirectVerb,
  voicemailVerb,
  gateVerb,
]);

export const verbsSchema = z.array(verbSchema).max(MAX_VERBS);

export type Verb = z.output<typeof verbSchema>;
export type VerbInput = z.input<typeof verbSchema>;
export type VerbName = Verb['verb'];
export type VerbOf<N extends VerbName> = Extract<Verb, { verb: N }>;
export type SayVerb = VerbOf<'say'>;
export type PlayVerb = VerbOf<'play'>;
export type GatherVerb = VerbOf<'gather'>;
export type RecordVerb = VerbOf<'record'>;
export type TranscribeVerb = VerbOf<'transcribe'>;
export type DialVerb = VerbOf<'dial'>;
export type EnqueueVerb = VerbOf<'enqueue'>;
export type PauseVerb = VerbOf<'pause'>;
export type HangupVerb = VerbOf<'hangup'>;
export type RedirectVerb = VerbOf<'redirect'>;
export type VoicemailVerb = VerbOf<'voicemail'>;
export type GateVerb = VerbOf<'gate'>;
export type DialTarget = z.output<typeof dialTarget>;
export type GatherPrompt = NonNullable<GatherVerb['prompt']>;

export const VERB_NAMES: readonly VerbName[] = FLOW_VERBS;

// The wire's verb names (shared with the desk) and the schema's are the same set.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sameVerbs: Same<VerbName, SharedVerbName> = true;
void sameVerbs;

/** Why a list of verbs was refused: the first problems, each with its path (`2.timeout`). */
export interface VerbsProblem {
  readonly reason: 'not_a_list' | 'unknown_verb' | 'invalid_options' | 'too_many_verbs';
  readonly detail: string;
}

/**
 * Checks verbs from anywhere (config, webhook, module). Never throws: the
 * caller runs its fallback and records the problem.
 */
export function parseVerbs(
  value: unknown,
): { ok: true; verbs: Verb[] } | ({ ok: false } & VerbsProblem) {
  if (!Array.isArray(value))
    return { ok: false, reason: 'not_a_list', detail: 'expected a list of verbs' };
  if (value.length > MAX_VERBS)
    return { ok: false, reason: 'too_many_verbs', detail: `more than ${MAX_VERBS} verbs` };
  for (const [index, item] of value.entries()) {
    const name = (item as { verb?: unknown } | null)?.verb;
    if (typeof name !== 'string' || !(VERB_NAMES as readonly string[]).includes(name))
      return {
        ok: false,
        reason: 'unknown_verb',
        detail: `${index}.verb: ${typeof name === 'string' ? `unknown verb "${name.slice(0, 40)}"` : 'missing'}`,
      };
  }
  const parsed = verbsSchema.safeParse(value);
  if (parsed.success) return { ok: true, verbs: parsed.data };
  return {
    ok: false,
    reason: 'invalid_options',
    detail: parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; '),
  };
}
