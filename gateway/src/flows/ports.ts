/**
 * The ports flows need from a call: what an adapter over the real legs
 * (`calls/`), media applications (`media/`), speech (`speech/`) and trunks
 * (`trunks/`) implements. Flows depend on nothing else of the gateway, so
 * every verb runs the same on a browser leg, a SIP visitor and a trunk call,
 * and is tested with in-memory fakes (`testing/fake-call.ts`).
 *
 * Rules every port follows:
 * - `signal`s: when aborted, the operation stops at once and its promise
 *   settles (resolves with what was done; never hangs). `FlowCall.ended`
 *   aborts when the call ends for any reason (the caller hung up, the
 *   gateway ended it): every verb stops together.
 * - Run-time failures reject with an Error whose `code` (when present) is an
 *   error code of docs/errors.md; they never end the call by themselves.
 */
import type { EventEmitter } from 'node:events';
import type { QueueStatus } from '@parley/shared/protocol';
import type { DialStatus, GateResult, VoicemailResult } from './verbs/results.js';
import type { DialTarget } from './verbs/schema.js';

/** Who is calling, as flows, webhooks and modules see it. JSON-safe. */
export interface FlowCallContext {
  readonly callId: string;
  readonly tenant: string;
  /** The caller's side: a browser (widget), a SIP visitor, or the telephone network (trunk). */
  readonly channel: 'browser' | 'sip' | 'phone';
  readonly direction: 'inbound' | 'outbound';
  /** The caller: an E.164 number, a SIP URI, or null (a browser visitor). */
  readonly from: string | null;
  /** What was called: the DID (E.164), the queue, or a SIP URI. */
  readonly to: string | null;
  /** The web session's caller-ID number (S6), when there is a web session. */
  readonly sessionNumber: string | null;
  readonly sessionId: string | null;
  /** The queue the call came in for, if any. */
  readonly queue: string | null;
  readonly customerId: string | null;
  /** The call token's public claims (browser and SIP visitors). */
  readonly publicClaims: Readonly<Record<string, unknown>>;
  /** The token's private claims: the company's own data, shown to its own webhook and module. */
  readonly privateClaims: Readonly<Record<string, unknown>>;
  /** The customer's value from routing (S1), when it was computed. */
  readonly value: { readonly value: number; readonly tier: string } | null;
}

/**
 * Audio to play. `file`: a WAV file on disk (PCM 16-bit mono, or G.711 at
 * 8 kHz; the player resamples); `wav`: the bytes of one (a fetched URL);
 * `pcm`: samples made in memory (a beep, the hold tone).
 */
export type Audio =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'wav'; readonly data: Uint8Array; readonly name: string }
  | { readonly kind: 'pcm'; readonly samples: Int16Array; readonly sampleRate: number };

/** A DTMF key: from RFC 4733 events and SIP INFO alike, each press once. */
export type Digit =
  '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

export interface RecordingOptions {
  /** Where the WAV goes (absolute; the directory may not exist yet: the recorder makes it). */
  readonly path: string;
  /** Stops the recording (the file is finalised) when aborted. */
  readonly signal: AbortSignal;
}

export interface RecordingEvents {
  /**
   * The level of each frame (20 ms) of the caller's audio, in dBFS (0 is
   * full scale, silence about -90). Flows find silence from these.
   */
  level: [dbfs: number];
  /** Writing failed (disk full): the recording ends; `stop()` still gives what was written. */
  error: [Error];
}

/** A recording of the caller's leg, started by {@link FlowCall.startRecording}. */
export interface Recording extends EventEmitter<RecordingEvents> {
  /**
   * Stops and finalises the WAV file (a header that a player accepts, up to
   * the last frame). Safe twice; resolves with what was written.
   */
  stop(): Promise<{ readonly path: string; readonly durationMs: number; readonly bytes: number }>;
}

export interface TranscriptionOptions {
  readonly language: string;
  readonly partialResults: boolean;
}

export interface TranscriptionEvents {
  /** The best guess so far for the utterance; replaces the previous partial of it. */
  partial: [{ readonly utterance: number; readonly text: string }];
  /** One per utterance. */
  final: [{ readonly utterance: number; readonly text: string; readonly confidence?: number }];
  /** The recogniser failed; `close` follows. The call goes on. */
  error: [Error];
  close: [];
}

/**
 * Streaming speech to text on the caller's leg (the `Transcriber` seam of
 * `speech/` fed with the leg's PCM). Runs in the background while other verbs
 * run.
 */
export interface Transcription extends EventEmitter<TranscriptionEvents> {
  /** No more audio: the last utterance's final comes, then `close`. Safe twice. */
  stop(): Promise<void>;
}

export interface DialOptions {
  /** Seconds the target rings before `no-answer`. */
  readonly timeoutSeconds: number;
  /** Caller ID toward the target; undefined: the call's session number. */
  readonly callerId: string | undefined;
  /** Ends the attempt (cancels the ringing; hangs the target up once bridged). */
  readonly signal: AbortSignal;
}

/** An answered target, bridged with the caller (media flows both ways). */
export interface Bridge {
  /** Who answered: the agent id, the number or the SIP URI. */
  readonly answeredBy: string;
  /** Settles when the conversation is over (either side hung up, or the signal aborted). */
  readonly ended: Promise<{
    readonly by: 'caller' | 'target' | 'gateway';
    readonly reason: string;
  }>;
  /** Hangs the target up (time limit): the caller stays and the flow goes on. */
  hangup(reason: string): void;
}

export type DialAttempt =
  | { readonly status: 'answered'; readonly bridge: Bridge }
  | {
      readonly status: Exclude<DialStatus, 'answered'>;
      readonly sipStatus?: number;
      readonly reason?: string;
    };

/**
 * What a `gate` verb says of the call: the resident it is for, when the line
 * is one resident's, and the keys the caller typed ahead.
 */
export interface GateOptions {
  /** The resident's number (as the facility's API has it). */
  readonly resident?: string;
  /**
   * Keys pressed before the verb and not read yet, oldest first: kept as a
   * `gather` keeps them (after a `say` or `play` a key interrupted), so a
   * caller who keys the account number during the greeting is not asked again.
   */
  readonly typedAhead?: readonly Digit[];
}

/** Whose box a `voicemail` verb leaves the message in, and why. */
export type VoicemailRequest = (
  | { readonly queue: string; readonly agent?: undefined }
  | { readonly agent: string; readonly queue?: undefined }
) & { readonly cause: 'no-answer' | 'closed' | 'max-wait' };

/**
 * The call a flow runs on. One per call; the adapter owns the legs and the
 * media endpoint and closes them when the call ends.
 */
export interface FlowCall {
  readonly context: FlowCallContext;
  /** Aborts when the call ends (the caller hung up, or anything else ended it). */
  readonly ended: AbortSignal;
  /** Whether the caller's leg is answered (by the gateway, or bridged to someone). */
  readonly answered: boolean;
  /**
   * Answers the caller's leg with the gateway's media (200 OK; for a browser,
   * the WebRTC answer) so that prompts can be heard and keys read.
   * Idempotent: resolves at once when already answered.
   */
  answer(): Promise<void>;
  /**
   * Plays audio on the caller's leg, paced in real time; resolves when it has
   * all been sent, or at once when `signal` aborts (the rest is not sent).
   * Rejects (code `prompt_unavailable`) when the audio cannot be read.
   */
  play(audio: Audio, options: { readonly signal: AbortSignal }): Promise<void>;
  /** Every key the caller presses, in order, once each. Returns the unsubscribe. */
  onDigit(listener: (digit: Digit) => void): () => void;
  /** Starts recording the caller. Rejects (code `recording_failed`) when the file cannot be opened. */
  startRecording(options: RecordingOptions): Promise<Recording>;
  /** Starts transcribing the caller. Failures come as the transcription's `error` event. */
  startTranscription(options: TranscriptionOptions): Transcription;
  /**
   * Rings a target: an agent, a queue's free agents now, a number through a
   * trunk, a SIP URI. Early media (183) reaches the caller; the caller's leg
   * is answered when the target answers (answer on bridge). Resolves once the
   * attempt is decided; an answered one is bridged until `bridge.ended`.
   */
  dial(target: DialTarget, options: DialOptions): Promise<DialAttempt>;
  /**
   * The caller leaves a message in a queue's or an agent's box (the voicemail
   * module); resolves when it is over (a taken call: when the call ended).
   * Absent where voicemail is not wired.
   */
  voicemail?(box: VoicemailRequest): Promise<VoicemailResult>;
  /**
   * The gated facility's call path (docs/gated.md): authorise the caller,
   * ring the resident's devices, connect once re-verified; resolves when the
   * call is over (a refusal ends it after the not-available prompt). Absent
   * where the call's tenant is not a gated facility.
   */
  gate?(options: GateOptions): Promise<GateResult>;
  /**
   * Ends the call: before the answer a SIP final response (busy 486,
   * rejected/completed 603, an error code: its SIP status and Reason), after
   * it a BYE with a Reason header. `ended` aborts.
   */
  hangup(reason: string): Promise<void>;
  /** Sends a queue status to a browser visitor on its data channel; absent for phones and SIP visitors. */
  sendToVisitor?(status: QueueStatus): void;
}

/** Text to speech (flite, cached by text and voice: `speech/`). */
export interface SpeechSynthesizer {
  /** Rejects (code `prompt_unavailable`) when no audio can be made. */
  synthesize(text: string, voice: string | undefined, signal: AbortSignal): Promise<Audio>;
}
