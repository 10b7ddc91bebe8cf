/** The desk softphone's public shapes: its status, its calls' states, its events, settings and seams. */
import type { PhoneStack } from './phone-stack.js';
import type { ReconnectPolicy } from './reconnect-policy.js';

/**
 * `off`: not started; `connecting`: WebSocket and REGISTER under way;
 * `registered`: calls can ring here; `reconnecting`: the WebSocket dropped or
 * the registration lapsed, a retry is due; `failed`: given up (a refused
 * password is not retried, so the agent's account is not locked).
 */
export type PhoneStatus = 'off' | 'connecting' | 'registered' | 'reconnecting' | 'failed';

export interface PhoneStatusChange {
  readonly status: PhoneStatus;
  /** Why, for `reconnecting` and `failed`, in words. */
  readonly reason?: string;
  /** `password_refused` when the registrar refused the credentials (not retried). */
  readonly code?: 'password_refused' | 'unreachable' | 'refused';
}

export type PhoneCallState = 'ringing' | 'answering' | 'connected' | 'ended';

export interface PhoneCallChange {
  readonly callId: string;
  readonly state: PhoneCallState;
}

export interface SoftphoneEvents {
  status: [PhoneStatusChange];
  call: [PhoneCallChange];
  /** The remote audio of a connected call. */
  media: [callId: string, stream: MediaStream];
}

export interface SoftphoneSettings {
  readonly wsUrl: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string;
  readonly displayName?: string;
  /** The User-Agent header (default `Parley desk`). */
  readonly userAgentString?: string;
}

export interface SoftphoneDeps {
  readonly stack: PhoneStack;
  readonly getUserMedia: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
  readonly reconnect?: ReconnectPolicy;
  readonly setTimeout?: (callback: () => void, ms: number) => unknown;
  readonly clearTimeout?: (handle: unknown) => void;
}
