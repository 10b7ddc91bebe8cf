/**
 * Cancelling an outbound trunk call: the CANCEL goes out once the carrier sent
 * a provisional response (RFC 3261 §9.1: the transaction holds it until then),
 * with a Reason saying why (RFC 3326). The attempt ends as asked whatever final
 * response comes after it (`failureForFinal`).
 */
import type { InviteClientTransaction, SipStack } from '../sip/index.js';
import type { CancelledAs } from './dial-failure.js';

/**
 * Why a call still dialling is stopped: the caller gave up, the ring timeout,
 * or (a queue's phone agent) another agent took the call.
 */
export type CancelReason = 'cancelled' | 'no_answer' | 'answered_elsewhere';

/** The Reason of the trunk's CANCEL (RFC 3326), by why it is cancelled. */
const CANCEL_REASONS = {
  cancelled: 'SIP;cause=487;text="cancelled"',
  no_answer: 'SIP;cause=487;text="number_no_answer"',
  answered_elsewhere: 'SIP;cause=200;text="Call completed elsewhere"',
} as const satisfies Record<CancelReason, string>;

export function cancelledAs(reason: CancelReason): CancelledAs {
  return reason === 'no_answer' ? 'no_answer' : 'cancelled';
}

/** CANCELs `ict` now, or as soon as its first provisional response comes. */
export function sendCancel(
  stack: SipStack,
  ict: InviteClientTransaction,
  reason: CancelReason,
): void {
  ict.cancel((cancel) => {
    cancel.headers.set('Reason', CANCEL_REASONS[reason]);
    stack.transactions.sendCancel(cancel, ict);
  });
}
