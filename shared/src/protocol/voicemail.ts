/**
 * Live voicemail on the wire (gateway `gateway/src/voicemail/`): the record
 * the API lists, and the frames of its live stream (the desk's events socket
 * and `GET /v1/voicemails/<id>/live`). docs/voicemail.md.
 */

/** recording: the caller is speaking; left: the message ended; taken: an agent took the call; abandoned: the caller hung up before the beep; failed. */
export type VoicemailStatus = 'recording' | 'left' | 'taken' | 'abandoned' | 'failed';

/**
 * Why voicemail answered: no agent took the call (rang out, none signed in, or
 * a direct call the agent did not answer), outside the queue's business hours,
 * or the caller waited the queue's longest wait.
 */
export type VoicemailCause = 'no-answer' | 'closed' | 'max-wait';

/** One recognised utterance of the message. */
export interface VoicemailUtterance {
  readonly utterance: number;
  readonly text: string;
  /** From the start of the recording, ms. */
  readonly startMs: number;
  readonly endMs: number;
}

/** A voicemail as `GET /v1/voicemails` lists it and the desk shows it. */
export interface VoicemailView {
  readonly id: string;
  readonly callId: string;
  readonly tenant: string;
  /** The queue whose box it is ('' for an agent's own box). */
  readonly queue: string;
  /** The agent whose own box it is (a direct call to them), or null for a queue's box. */
  readonly agent: string | null;
  readonly cause: VoicemailCause;
  readonly status: VoicemailStatus;
  /** The caller's web session number (what a phone agent sees as the caller). */
  readonly sessionNumber: string;
  readonly sessionId: string;
  readonly origin: string;
  /** The page the call was placed from (the token's `page` claim), if any. */
  readonly page: string | null;
  /** The token's public claims; private claims only for keys that may see them. */
  readonly publicClaims: Readonly<Record<string, unknown>>;
  readonly privateClaims?: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly endedAt: string | null;
  readonly durationMs: number;
  /** Why the recording ended: hangup, key, silence, max-length, taken, error. */
  readonly endReason: string | null;
  /** The final transcript (utterances joined), once known. */
  readonly transcript: string | null;
  readonly utterances: readonly VoicemailUtterance[];
  /** Why there is no transcript (the recogniser failed: the recording is kept). */
  readonly transcriptError: string | null;
  /** The agent who took the call mid-message, and when. */
  readonly takenBy: string | null;
  readonly takenAt: string | null;
  /** Marked heard (desk "Mark heard", `POST /v1/voicemails/<id>/heard`): the first time and by whom. */
  readonly heardAt: string | null;
  readonly heardBy: string | null;
  readonly hasRecording: boolean;
  /**
   * What the caller typed on the call's data channel (a browser caller may
   * type instead of speaking), in order: the desk's list,
   * `GET /v1/voicemails/<id>` and the `voicemail-ended` frame and webhook
   * fill it in; absent in the other live frames (`voicemail-typed` brings each line).
   */
  readonly typed?: readonly VoicemailTyped[];
}

/** A line a browser caller typed during the call (a `chat` message of the data channel). */
export interface VoicemailTyped {
  /** When the gateway received it (ISO time). */
  readonly at: string;
  readonly text: string;
}

/** A frame of a voicemail's live stream. */
export type VoicemailEvent =
  | { readonly type: 'voicemail-started'; readonly voicemail: VoicemailView }
  /** The best guess so far for an utterance: replaces the previous partial of the same utterance. */
  | {
      readonly type: 'voicemail-partial';
      readonly voicemailId: string;
      readonly utterance: number;
      readonly text: string;
    }
  | {
      readonly type: 'voicemail-final';
      readonly voicemailId: string;
      readonly utterance: VoicemailUtterance;
    }
  /** A line the caller typed on the call's data channel while the message was recorded. */
  | {
      readonly type: 'voicemail-typed';
      readonly voicemailId: string;
      readonly typed: VoicemailTyped;
    }
  | { readonly type: 'voicemail-ended'; readonly voicemail: VoicemailView };

/**
 * A stored voicemail changed through the API or a desk: to every desk of its
 * box (the queue's agents, or the agent whose box it is), on every gateway,
 * so an inbox follows without a reload.
 */
export type VoicemailInboxEvent =
  | {
      readonly type: 'voicemail-heard';
      readonly voicemailId: string;
      /** The first mark (ISO time) and who made it. */
      readonly heardAt: string;
      readonly heardBy: string | null;
    }
  | { readonly type: 'voicemail-deleted'; readonly voicemailId: string };
