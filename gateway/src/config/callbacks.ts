/**
 * The `callbacks` section (docs/callbacks.md): the customer is called first
 * through a trunk, hears the acceptance prompt, and only after "1" is the
 * advertiser called and charged the callback fee.
 */
import { z } from 'zod';
import type { Config } from './load.js';

const e164 = z.string().regex(/^\+[1-9]\d{1,14}$/, 'an E.164 number, e.g. +14155550100');
/** A whole E.164 number or a prefix ending in `*` (`+1900*`). */
const numberRule = z.string().regex(/^\+\d{1,15}\*?$/, '+digits, optionally ending in *');

/**
 * libphonenumber's number types (`getType()` with the full metadata) a
 * callback may not call: money flows to whoever holds them.
 */
export const NUMBER_TYPES = [
  'PREMIUM_RATE',
  'SHARED_COST',
  'TOLL_FREE',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
  'MOBILE',
  'FIXED_LINE',
  'FIXED_LINE_OR_MOBILE',
] as const;

const rate = (max: number, windowSeconds: number) =>
  z
    .strictObject({
      max: z.number().int().min(1).max(1_000_000).default(max),
      windowSeconds: z.number().int().min(1).max(2_592_000).default(windowSeconds),
    })
    .prefault({});

/** A queue's callbacks: its agents are the advertiser (value routing as for calls). */
const callbackQueue = z.strictObject({
  /** Caller ID toward the customer: the queue's number. */
  callerNumber: e164,
  /** Who the prompt says asked to call ("You asked <name> to call you"); default the tenant's name. */
  name: z.string().min(1).max(100).optional(),
  /** Charged to `advertiser` when the advertiser leg connects (minor units); 0: no fee. */
  feeCents: z.number().int().min(0).max(1_000_000).default(0),
  /** The marketplace advertiser whose ledger account pays the fee (required when feeCents > 0). */
  advertiser: z.string().min(1).optional(),
});

export const callbacks = z
  .strictObject({
    /**
     * The trunk the customer is called through (`trunks.<id>`); default the
     * first trunk that lets the tenant call out.
     */
    trunk: z.string().min(1).optional(),
    /** Queues that offer callbacks (by queue name). */
    queues: z.record(z.string().min(1), callbackQueue).default({}),
    /** Marketplace listings offer callbacks (`listing.<id>`). */
    listings: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** The fee: `bid` (the listing's bid per call) or a fixed amount in minor units. */
        feeCents: z
          .union([z.literal('bid'), z.number().int().min(0).max(1_000_000)])
          .default('bid'),
        /** Caller ID toward the customer when a listing has no static number (else the tenant's fallback number). */
        callerNumber: e164.optional(),
      })
      .prefault({}),
    prompt: z
      .strictObject({
        /** `{advertiser}` is replaced by the listing's advertiser or the queue's name. */
        text: z
          .string()
          .min(1)
          .max(500)
          .default(
            'You asked {advertiser} to call you. Press 1 to be connected now, or 2 to cancel.',
          ),
        /** flite voice (speech.tts.voices); default speech.tts.defaultVoice. */
        voice: z.string().optional(),
        /** How many times the prompt is said while no key comes. */
        repeat: z.number().int().min(1).max(5).default(2),
        /** After the last prompt, how long a key may take. */
        keyTimeoutSeconds: z.number().int().min(1).max(60).default(8),
        /** Said when the customer pressed 2. */
        declined: z.string().min(1).max(500).default('Your call is cancelled. Goodbye.'),
        /** Said when the advertiser cannot pay or cannot be reached. */
        apology: z
          .string()
          .min(1)
          .max(500)
          .default('We are sorry, we cannot connect you right now. Goodbye.'),
      })
      .prefault({}),
    /** How long the customer's phone rings before the attempt is `no_answer`. */
    ringTimeoutSeconds: z.number().int().min(5).max(120).default(30),
    /** How long the advertiser's phone (or each agent's) rings. */
    advertiserRingTimeoutSeconds: z.number().int().min(5).max(120).default(30),
    /** Attempts again after a busy or unanswered customer. */
    retries: z
      .strictObject({
        /** Attempts in all (1: no retry). */
        maxAttempts: z.number().int().min(1).max(10).default(3),
        busyDelaySeconds: z.number().int().min(10).max(86_400).default(120),
        noAnswerDelaySeconds: z.number().int().min(10).max(86_400).default(300),
      })
      .prefault({}),
    /** Callbacks placed at once (more wait their turn). */
    maxConcurrent: z.number().int().min(1).max(10_000).default(50),
    /** A time slot may be this far ahead. */
    maxDaysAhead: z.number().int().min(1).max(90).default(7),
    /** "When an agent is free" gives up after this long (outcome `expired`). */
    agentFreeMaxWaitSeconds: z.number().int().min(60).max(604_800).default(3600),
    numbers: z
      .strictObject({
        /** Number types never called (libphonenumber's `getType()`, full metadata). */
        blockedTypes: z
          .array(z.enum(NUMBER_TYPES))
          .default(['PREMIUM_RATE', 'SHARED_COST', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL']),
        /** Numbers and prefixes never called (`+1900*`). */
        blocked: z.array(numberRule).default([]),
        /** Emergency and service short codes, as typed (national digits), never called. */
        emergency: z
          .array(z.string().regex(/^\d{2,6}$/))
          .default([
            '911',
            '112',
            '999',
            '000',
            '110',
            '118',
            '119',
            '100',
            '101',
            '102',
            '15',
            '17',
            '18',
            '08',
          ]),
        /** Countries (ISO 3166) whose numbers may be called; empty: any. */
        allowedCountries: z.array(z.string().regex(/^[A-Z]{2}$/)).default([]),
      })
      .prefault({}),
    rateLimit: z
      .strictObject({
        /** Callbacks asked for one number, whoever asks. */
        perNumber: rate(5, 3600),
        /** Callbacks asked by one web session. */
        perSession: rate(5, 3600),
      })
      .prefault({}),
  })
  .prefault({});

/** The validated section as the frozen config holds it. */
export type CallbacksConfig = Config['callbacks'];

/** What the schema cannot check alone: names of queues, trunks and voices the section uses. */
export function callbackProblems(config: {
  readonly callbacks: CallbacksConfig;
  readonly queues: Readonly<Record<string, unknown>>;
  readonly trunks: Readonly<Record<string, unknown>>;
  readonly speech: { readonly tts: { readonly voices: readonly string[] } };
}): string[] {
  const c = config.callbacks;
  const problems: string[] = [];
  if (c.trunk !== undefined && !Object.hasOwn(config.trunks, c.trunk))
    problems.push(`callbacks.trunk: no trunk "${c.trunk}"`);
  for (const [name, q] of Object.entries(c.queues)) {
    if (!Object.hasOwn(config.queues, name))
      problems.push(`callbacks.queues.${name}: no such queue`);
    if (q.feeCents > 0 && q.advertiser === undefined)
      problems.push(`callbacks.queues.${name}.advertiser: a fee needs the advertiser who pays it`);
  }
  if (c.prompt.voice !== undefined && !config.speech.tts.voices.includes(c.prompt.voice))
    problems.push(`callbacks.prompt.voice: "${c.prompt.voice}" is not one of speech.tts.voices`);
  return problems;
}
