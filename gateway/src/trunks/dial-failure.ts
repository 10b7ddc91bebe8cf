/**
 * How a call toward the telephone network failed, in the registry's terms:
 * the carrier's final status mapped to a reason and an error code the
 * caller's side reports (a Reason header, a flow's `dial` result). A call we
 * cancelled ends as asked, whatever final status came.
 */
import type { ErrorCode } from '@parley/shared/errors';
import type { DialFailureReason, TrunkDialFailure } from './dial-types.js';

export interface FailureKind {
  readonly reason: DialFailureReason;
  readonly code: ErrorCode | undefined;
}

/**
 * A carrier's final status to an INVITE we did not cancel (RFC 3261 §21): busy
 * (486, 600), no answer (480, 408, 487), a number that cannot be (484, 604),
 * the network unable (5xx), anything else refused.
 */
export function failureForStatus(status: number): FailureKind {
  if (status === 486 || status === 600) return { reason: 'busy', code: 'number_busy' };
  if (status === 480 || status === 487 || status === 408)
    return { reason: 'no_answer', code: 'number_no_answer' };
  if (status === 484 || status === 604) return { reason: 'invalid_number', code: 'number_invalid' };
  if (status >= 500 && status < 600) return { reason: 'unavailable', code: 'trunk_unavailable' };
  return { reason: 'rejected', code: 'number_rejected' };
}

/** What a cancelled attempt ends as (`cancel('answered_elsewhere')` ends `cancelled` all the same). */
export type CancelledAs = 'cancelled' | 'no_answer';

/**
 * The final status to our INVITE → the failure: after our CANCEL, whatever
 * final comes (487, or a 503 that crossed it) ends it as asked.
 */
export function failureForFinal(status: number, cancelled: CancelledAs | undefined): FailureKind {
  return cancelled === undefined ? failureForStatus(status) : failureWhenCancelled(cancelled);
}

/** The failure of a cancelled attempt. */
export function failureWhenCancelled(cancelled: CancelledAs): FailureKind {
  return { reason: cancelled, code: cancelled === 'no_answer' ? 'number_no_answer' : undefined };
}

/** A failure decided before any INVITE left (bad number, not allowed, trunk full). */
export function failedBeforeDialling(
  reason: DialFailureReason,
  code: ErrorCode,
  detail: string,
): TrunkDialFailure {
  return { reason, code, status: undefined, detail, peer: undefined };
}
