/**
 * Flow events: what a flow did on a call, verb by verb. The same JSON goes
 * into the call record (`flow_events`), to the company's webhook as status
 * callbacks and to the agent desk (`DeskEvent` `flow`). The gateway makes
 * them (`gateway/src/flows/`); reference in docs/flows.md.
 *
 * Each verb's result has a `status`; `hangup` means the caller left during
 * the verb.
 */

export const FLOW_VERBS = [
  'say',
  'play',
  'gather',
  'record',
  'transcribe',
  'dial',
  'enqueue',
  'pause',
  'hangup',
  'redirect',
  'voicemail',
  'gate',
] as const;
export type VerbName = (typeof FLOW_VERBS)[number];

/** say and play. */
export interface PromptResult {
  readonly status: 'completed' | 'interrupted' | 'hangup';
  /** The key that interrupted the prompt (it is kept for a gather that follows). */
  readonly key?: string;
  /** Times the audio started (with `loop`). */
  readonly plays: number;
}

export interface GatherResult {
  readonly status: 'completed' | 'timeout' | 'hangup';
  /** The keys pressed, without the finish key. */
  readonly digits: string;
  readonly finishedBy: 'numDigits' | 'finishOnKey' | 'timeout' | 'hangup';
  /** The prompt could not be played (the keys were still read). */
  readonly promptError?: VerbFailure;
}

export interface RecordResult {
  readonly status: 'completed' | 'hangup';
  /** The WAV file (absolute path), under `storage.recordingsDir`. */
  readonly path: string;
  readonly durationSeconds: number;
  readonly bytes: number;
  readonly endedBy: 'silence' | 'key' | 'max-length' | 'hangup';
  /** The key that ended it (not recorded in the digits of a later gather). */
  readonly key?: string;
}

export interface TranscribeResult {
  /** `started`; on stop `stopped`, or `not-running` when none was running. */
  readonly status: 'started' | 'stopped' | 'not-running';
  /** With `stopped`: final utterances and their text, joined by spaces. */
  readonly utterances?: number;
  readonly text?: string;
}

export type DialStatus = 'answered' | 'busy' | 'no-answer' | 'failed' | 'canceled';

export interface DialResult {
  /** TwiML's DialCallStatus: `answered` (and the conversation is over), busy, no-answer, failed, canceled. */
  readonly status: DialStatus;
  /** Who answered: the agent id, the number or the SIP URI. */
  readonly answeredBy?: string;
  /** Seconds of conversation, once answered. */
  readonly talkSeconds?: number;
  /** The SIP final status the target answered with, when it failed. */
  readonly sipStatus?: number;
  /** A reason code, when the adapter gives one (agent_unreachable, …). */
  readonly reason?: string;
}

export interface EnqueueResult {
  /**
   * `bridged` (an agent took the call and the conversation is over),
   * `timeout` (maxWaitSeconds), `full`, `closed` (outside business hours),
   * `no-agents` (nobody of the queue signed in), `hangup`, `failed`.
   */
  readonly status: 'bridged' | 'timeout' | 'full' | 'closed' | 'no-agents' | 'hangup' | 'failed';
  readonly queue: string;
  readonly waitSeconds: number;
  /** The position when the caller joined (1 is next). */
  readonly joinedAt?: number;
  readonly agentId?: string;
  readonly talkSeconds?: number;
}

export interface PauseResult {
  readonly status: 'completed' | 'hangup';
}

export interface HangupResult {
  readonly status: 'completed';
  readonly reason: string;
}

export interface VoicemailResult {
  /**
   * `left` (the caller left a message, voicemail hung up), `taken` (an agent
   * took the call mid-message and the conversation is over), `hangup` (the
   * caller left before the beep), `unavailable` (the box has no voicemail:
   * the flow goes on), `failed`.
   */
  readonly status: 'left' | 'taken' | 'hangup' | 'unavailable' | 'failed';
  /** The voicemail's id (`GET /v1/voicemails/<id>`), once recorded. */
  readonly voicemailId?: string;
}

export interface GateResult {
  /**
   * `connected` (the Gate allowed the call, the resident's device answered and
   * was re-verified, and the conversation is over), `refused` (the caller
   * heard the not-available prompt: which check failed is in the Gate's
   * decisions, never here), `hangup` (the caller left before the resident
   * was connected).
   */
  readonly status: 'connected' | 'refused' | 'hangup';
  /** Seconds from the connect to the end, once connected. */
  readonly talkSeconds?: number;
}

export interface RedirectResult {
  readonly status: 'redirected';
  readonly flow: string;
}

export interface VerbResults {
  say: PromptResult;
  play: PromptResult;
  gather: GatherResult;
  record: RecordResult;
  transcribe: TranscribeResult;
  dial: DialResult;
  enqueue: EnqueueResult;
  pause: PauseResult;
  hangup: HangupResult;
  redirect: RedirectResult;
  voicemail: VoicemailResult;
  gate: GateResult;
}

export type VerbResult = VerbResults[VerbName];

/** A verb that could not run: its `verb.error` event. The flow goes on with the next verb. */
export interface VerbFailure {
  /** An error code (docs/errors.md): prompt_unavailable, recording_failed, verb_failed, … */
  readonly code: string;
  readonly message: string;
}

/** Where a flow's verbs came from. */
export type FlowSourceKind = 'config' | 'webhook' | 'module' | 'builtin';

/** Why a webhook or module gave no usable verbs (the fallback flow ran instead). */
export type FlowSourceFailure =
  | 'timeout'
  | 'unreachable'
  | `http_${number}`
  | 'too_large'
  | 'not_json'
  | 'not_a_list'
  | 'unknown_verb'
  | 'invalid_options'
  | 'too_many_verbs'
  | 'module_threw'
  | 'flow_not_found';

/** How a flow run ended. */
export type FlowEndReason =
  /** The verbs ran out, or a `hangup` verb ran. */
  | 'completed'
  /** The caller hung up (or the call ended otherwise) during the flow. */
  | 'caller_hangup'
  /** Too many redirects without the caller doing anything (`flow_redirect_loop`). */
  | 'redirect_loop'
  /** No verbs could be had, not even from the fallback. */
  | 'failed';

interface EventBase {
  readonly callId: string;
  readonly tenant: string;
  /** 1, 2, … per call: the order events happened in. */
  readonly seq: number;
  /** ISO 8601 with milliseconds. */
  readonly at: string;
  /** The flow running (its name in `flows`, or `parley.*` for the built-in ones). */
  readonly flow: string;
}

interface VerbEventBase extends EventBase {
  /** The verb's place in the verbs being run (0-based). */
  readonly index: number;
  readonly verb: VerbName;
}

interface TranscriptText {
  /** 0, 1, …: a partial and the final of one utterance have the same number. */
  readonly utterance: number;
  readonly text: string;
}

export type FlowEvent =
  | (EventBase & { readonly type: 'flow.start'; readonly source: FlowSourceKind })
  | (EventBase & { readonly type: 'flow.end'; readonly reason: FlowEndReason })
  | (EventBase & {
      readonly type: 'source.error';
      readonly source: FlowSourceKind;
      readonly reason: FlowSourceFailure;
      readonly detail: string;
      /** The flow run instead. */
      readonly fallback: string;
    })
  | (VerbEventBase & {
      readonly type: 'verb.start';
      /** The verb as it runs, defaults applied. */
      readonly options: Readonly<Record<string, unknown>>;
    })
  | (VerbEventBase & {
      readonly type: 'verb.result';
      readonly result: VerbResult;
      /** From the verb's start to its result. */
      readonly ms: number;
    })
  | (VerbEventBase & {
      readonly type: 'verb.error';
      readonly error: VerbFailure;
      readonly ms: number;
    })
  /** The best guess so far for an utterance (replaces the previous partial of it). */
  | (EventBase & TranscriptText & { readonly type: 'transcript.partial' })
  /** One per utterance. */
  | (EventBase &
      TranscriptText & { readonly type: 'transcript.final'; readonly confidence?: number })
  | (EventBase & {
      /** The transcription started by a `transcribe` verb failed; the call goes on. */
      readonly type: 'transcript.error';
      readonly error: VerbFailure;
    })
  | (EventBase & {
      /** A queue the caller waits in: joined, moved, offered to an agent. */
      readonly type: 'queue.position';
      readonly queue: string;
      readonly position: number;
      readonly estimatedWaitSeconds: number | null;
    })
  | (EventBase & {
      readonly type: 'queue.offered';
      readonly queue: string;
      readonly agentId: string;
    });

export type FlowEventType = FlowEvent['type'];

/**
 * Events the call record keeps. Partial transcripts and queue positions are
 * live only (desk, webhook): they come many times a second or minute and the
 * final transcript and the verb results say what happened.
 */
export const STORED_FLOW_EVENTS: readonly FlowEventType[] = [
  'flow.start',
  'flow.end',
  'source.error',
  'verb.start',
  'verb.result',
  'verb.error',
  'transcript.final',
  'transcript.error',
  'queue.offered',
];
