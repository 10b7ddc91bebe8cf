/**
 * What the desk shows of calls (the element renders these): calls ringing,
 * the call in progress with its chat, the last call that ended. Plain data,
 * made by `DeskCalls` (desk-calls.ts) from the gateway's events and the
 * softphone's sessions.
 */
import type { NavigationMessage } from '@parley/shared/protocol';
import type { CallContext } from './desk-protocol.js';
import type { PhoneCallState } from './softphone-types.js';

/** `checking`: asking the gateway whether the session cookie is still good. */
export type DeskAuth = 'checking' | 'signed-out' | 'signing-in' | 'signed-in';

export interface RingingCall {
  readonly callId: string;
  /** From the `ring` event; undefined while only the INVITE is here. */
  readonly context: CallContext | undefined;
  readonly page: NavigationMessage | undefined;
  /** The INVITE's state on this browser, if it came here. */
  readonly phone: PhoneCallState | undefined;
}

export interface ChatEntry {
  readonly key: string;
  readonly from: 'visitor' | 'agent' | 'event' | 'notice';
  readonly text: string;
}

export interface ActiveCall {
  readonly callId: string;
  readonly context: CallContext | undefined;
  /** Wall-clock ms when the desk learnt of the answer (the timer's zero). */
  readonly answeredAt: number;
  /** Answered by this browser's softphone (mute, hold and hang-up work here). */
  readonly here: boolean;
  /** Hung up here; the gateway's `ended` is on its way. */
  readonly ending: boolean;
  readonly chat: readonly ChatEntry[];
  readonly page: NavigationMessage | undefined;
}

export interface EndedCall {
  readonly callId: string;
  readonly context: CallContext | undefined;
  readonly outcome: string | null;
  readonly reason: string | null;
  readonly talkMs: number;
}

/** Where the desk remembers the agent's choices ("Use this browser as my phone"; never the password). */
export interface DeskPreferences {
  get(key: string): string | null;
  set(key: string, value: string): void;
}
