/**
 * Details of the DOM events `<parley-agent-desk>` fires (`bubbles`,
 * `composed`; typed on HTMLElementEventMap in `parley-agent-desk.ts`).
 */
import type { StoredMessage } from '@parley/shared/protocol';
import type { DeskConnection } from './desk-client.js';
import type { CallContext, DeskAgent } from './desk-protocol.js';
import type { PhoneStatus } from './softphone-types.js';

/** `parley-desk-state`: sign-in, presence, the events socket or the softphone changed. */
export interface DeskStateDetail {
  readonly signedIn: boolean;
  /** Null when signed out. */
  readonly agent: DeskAgent | null;
  readonly connection: DeskConnection;
  /** "Use this browser as my phone" is on. */
  readonly softphone: boolean;
  readonly phone: PhoneStatus;
}

/**
 * `parley-desk-call`: a call rang at the agent (`ringing`), stopped ringing
 * without being answered here (`ring-stopped`), was answered (`answered`, on
 * this browser or the agent's phone) or ended (`ended`, with the gateway's
 * outcome and reason).
 */
export type DeskCallDetail =
  | { readonly phase: 'ringing'; readonly callId: string; readonly call: CallContext }
  | { readonly phase: 'ring-stopped'; readonly callId: string }
  | {
      readonly phase: 'answered';
      readonly callId: string;
      readonly call: CallContext;
      /** Answered by this browser's softphone. */
      readonly here: boolean;
    }
  | {
      readonly phase: 'ended';
      readonly callId: string;
      readonly outcome: string | null;
      readonly reason: string | null;
    };

/** `parley-desk-message`: a data-channel message of the agent's call (either side). */
export interface DeskMessageDetail {
  readonly callId: string;
  readonly stored: StoredMessage;
}

/**
 * `parley-desk-error`: something the agent is told about. `code`:
 * `sign_in_failed`, `session_expired`, `api_failed`, `microphone_denied`,
 * `answer_failed`, `phone_failed`, `message_rejected`, `not_connected`.
 */
export interface DeskErrorDetail {
  readonly code: string;
  readonly message: string;
}
