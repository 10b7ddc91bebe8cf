/**
 * The contract between the eagerly loaded element and the lazily loaded call
 * stack (sip.js and the CallClient, `../client/`). The element imports only
 * these types; `../index.ts` loads the stack with a dynamic `import()`.
 */
import type { GatewayNotice, ParleyMessage, QueueStatus } from '@parley/shared/protocol';
import type { MicrophoneState } from '../client/microphone-permission.js';
import type { ReconnectPolicy } from '../client/reconnect.js';
import type { CallState } from './call-state.js';

export interface CallClientOptions {
  /** URL of the company's token endpoint (`POST { queue }`), relative to the page. */
  readonly tokenUrl: string;
  readonly queue: string;
  /**
   * A marketplace listing to call instead of a queue (its web reference): the
   * destination becomes `listing.<id>`, and the token request and the INVITE
   * carry the listing and the impression it was shown with.
   */
  readonly listing?: string | undefined;
  /** The impression the listing was shown with (`<parley-listings>` sets it). */
  readonly impression?: string | undefined;
  /** SIP WebSocket URL; overrides the one the token endpoint names. */
  readonly gateway?: string | undefined;
  /** SIP domain of the request URI. Default `parley.invalid`. */
  readonly domain?: string | undefined;
  /**
   * How a call whose WebSocket dropped is brought back (`client/reconnect.ts`);
   * the window should not be longer than the gateway's
   * `visitors.reconnectGraceSeconds` (20 s by default, like the window).
   */
  readonly reconnect?: Partial<ReconnectPolicy> | undefined;
}

/** A state change; `code`, `message` and `human` come with `error` (and an `ended` never has them). */
export interface CallStateChange {
  readonly state: CallState;
  /** Error code (from `shared/src/errors/codes.ts`, or one a newer server sent). */
  readonly code?: string;
  /** For developers. */
  readonly message?: string;
  /** For the visitor. */
  readonly human?: string;
  /** When the token endpoint said how long to wait before trying again. */
  readonly retryAfterSeconds?: number;
}

export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#';
export const DTMF_DIGITS: readonly DtmfDigit[] = [
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
  '*',
  '0',
  '#',
];

/** Events of a CallClient (listener arguments). */
export interface CallClientEvents {
  state: [change: CallStateChange];
  /** A message from the agent's side (validated against the protocol schema). */
  message: [message: ParleyMessage];
  /** Something the gateway says on the message channel (a refused message, the end of the call). */
  notice: [notice: GatewayNotice];
  /** The visitor's place in a queue while no agent is free (the gateway answered the call meanwhile). */
  queue: [status: QueueStatus];
  /** The remote audio, once the call is answered. */
  media: [stream: MediaStream];
  /** The message channel opened (true) or closed (false). */
  channel: [open: boolean];
  /** The microphone permission, read when a call looks likely and on every change (`denied`: blocked). */
  permission: [state: MicrophoneState];
}

export type CallClientEventName = keyof CallClientEvents;

/** What the element's controller uses of a CallClient. */
export interface CallClientApi {
  readonly state: CallState;
  readonly muted: boolean;
  /** `performance.now()`-style time the call was answered, if it was. */
  readonly connectedAt: number | undefined;
  /** A call looks likely: fetch what it needs ahead (the call token). Optional for fakes. */
  prefetch?(): void;
  /** Starts a call (from `idle`, `ended` or `error`; ignored otherwise). Never rejects. */
  call(): Promise<void>;
  /** Cancels or hangs up whatever is under way. Never rejects. */
  hangup(): Promise<void>;
  /** Sends a chat text or a whole message; rejects with MessageRejectedError. */
  send(message: string | ParleyMessage): Promise<ParleyMessage>;
  /** Sends one DTMF digit as SIP INFO (application/dtmf-relay). */
  sendDtmf(digit: DtmfDigit): Promise<void>;
  setMuted(muted: boolean): void;
  on<K extends CallClientEventName>(
    event: K,
    listener: (...args: CallClientEvents[K]) => void,
  ): () => void;
  /** Hangs up and drops every listener. */
  dispose(): void;
}

/** The lazily loaded module (`../client/index.ts`). */
export interface CallStack {
  createCallClient(options: CallClientOptions): CallClientApi;
}
