/**
 * `queues.<name>.voicemail` and `agents[].voicemail`: live voicemail when no
 * agent takes the call (docs/voicemail.md).
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';

const sayGreeting = z.strictObject({
  /** Spoken by the text-to-speech engine (cached, docs/speech.md). */
  say: z.string().min(1).max(2000),
  /** A voice of `speech.tts.voices` (default `speech.tts.defaultVoice`). */
  voice: z.string().min(1).optional(),
});

const DEFAULT_GREETING = {
  say: 'Nobody can take your call. Please leave a message after the tone.',
};

const greeting = z.union([
  sayGreeting,
  z.strictObject({
    /** A WAV file (absolute path): 16-bit PCM, any rate (the player resamples). */
    wav: z.string().refine(isAbsolute, 'must be an absolute path'),
  }),
]);

export const voicemailSettings = z.strictObject({
  /** What the caller hears first. */
  greeting: greeting.prefault(DEFAULT_GREETING),
  /** What the caller hears first outside the queue's `businessHours` (default: `greeting`). */
  closedGreeting: greeting.optional(),
  /** A short tone after the greeting: recording starts after it. */
  beep: z.boolean().default(true),
  /** The message ends at this length. */
  maxSeconds: z.number().int().min(1).max(3600).default(120),
  /** The message ends after this much silence once the caller spoke (0: never). */
  silenceSeconds: z.number().int().min(0).max(300).default(5),
  /** Keys that end the message (DTMF: RFC 4733 or SIP INFO); empty: none. */
  finishOnKeys: z
    .string()
    .regex(/^[0-9*#A-D]*$/)
    .default('#'),
  /** Transcribe the message while it is recorded (partial and final text to the desks). */
  transcribe: z.boolean().default(true),
});

export type VoicemailSettings = z.infer<typeof voicemailSettings>;

/**
 * An agent's box as `PUT /v1/agents/<id>` sets it: the same settings, but
 * greetings only spoken (`say`): an API key never names a file on the gateway.
 */
export const apiVoicemailSettings = voicemailSettings.extend({
  greeting: sayGreeting.prefault(DEFAULT_GREETING),
  closedGreeting: sayGreeting.optional(),
});

/** `tenants.<id>.voicemail`: where the company hears of its voicemails. */
export const voicemailTenant = z.strictObject({
  /**
   * Each voicemail event (started, partial and final text, ended with the
   * recording's URL) is POSTed here, in order, retried until it is taken
   * (docs/voicemail.md, "Webhooks").
   */
  webhook: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }),
      /** Signs each request: `X-Parley-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`. */
      secret: z.string().min(16).optional(),
      /** Partial text too (several a second while the caller speaks), not only finals. */
      partials: z.boolean().default(true),
      timeoutMs: z.number().int().min(100).max(60_000).default(5000),
      /**
       * This tenant's longest wait between retries (1 s, then twice as long
       * each time up to this); default `voicemail.webhookMaxBackoffSeconds`.
       */
      maxBackoffSeconds: z.number().int().min(1).max(3600).optional(),
    })
    .optional(),
});

/** `voicemail`: the gateway's voicemail records (docs/voicemail.md). */
export const voicemailSection = z.strictObject({
  /** Recordings and transcripts older than this many days are deleted (row and file); 0 keeps them. */
  retentionDays: z.number().int().min(0).max(36_500).default(0),
  /** How often the retention sweeper runs. */
  sweepIntervalSeconds: z.number().int().min(1).max(86_400).default(3600),
  /** Webhook retries wait twice as long each time, from 1 s up to this. */
  webhookMaxBackoffSeconds: z.number().int().min(1).max(3600).default(300),
});
