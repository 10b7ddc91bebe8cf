/**
 * The outbound trunk call's vocabulary: what it is given, what the caller asks
 * for, the events it gets while the carrier answers, and how it ends.
 */
import type { ErrorCode } from '@parley/shared/errors';
import type { Logger } from '../observability/index.js';
import type { DigestClient } from '../sip/digest-client.js';
import type { Dialog, SipRequest, SipResponse, SipStack } from '../sip/index.js';
import type { Trunk, TrunkPeerInfo, TrunkSlot } from './trunk.js';

/** Why an outbound trunk call did not connect. */
export type DialFailureReason =
  | 'busy'
  | 'no_answer'
  | 'rejected'
  | 'unavailable'
  | 'auth_failed'
  | 'cancelled'
  | 'invalid_number'
  | 'not_allowed'
  | 'call_limit';

export interface TrunkDialFailure {
  readonly reason: DialFailureReason;
  /** The registry code for the caller's side (undefined for `cancelled`: the caller asked). */
  readonly code: ErrorCode | undefined;
  /** The carrier's final status, when one came. */
  readonly status: number | undefined;
  readonly detail: string;
  /** The last peer tried. */
  readonly peer: TrunkPeerInfo | undefined;
}

export interface TrunkProgress {
  readonly status: number;
  readonly reason: string;
  readonly response: SipResponse;
  /** The SDP answer of a 183 (early media: play it to the caller), if it carries one. */
  readonly earlyMedia: Buffer | undefined;
  readonly peer: TrunkPeerInfo;
}

export interface AnsweredTrunkCall {
  /** The 2xx. */
  readonly response: SipResponse;
  /** The INVITE it answered (with its credentials, CSeq). */
  readonly invite: SipRequest;
  /** Our UAC dialog: file it (`stack.addDialog`) and end it with `dialog.createRequest('BYE')`. */
  readonly dialog: Dialog;
  /** The SDP answer (empty when the 2xx had none). */
  readonly sdp: Buffer;
  readonly peer: TrunkPeerInfo;
  /** Puts credentials into an in-dialog request a carrier challenged (its BYE); false when it cannot. */
  authorize(request: SipRequest, challenge: SipResponse): boolean;
}

export type DialOutcome =
  | { readonly kind: 'answered'; readonly call: AnsweredTrunkCall }
  | { readonly kind: 'failed'; readonly failure: TrunkDialFailure };

export interface OutboundTrunkCallEvents {
  /** An INVITE left for this peer (the first, or the next after a failover). */
  attempt: [TrunkPeerInfo];
  /** The carrier challenged (401, 407) and the INVITE went again with credentials. */
  challenged: [401 | 407];
  /** A provisional response other than 100. */
  progress: [TrunkProgress];
  answered: [AnsweredTrunkCall];
  failed: [TrunkDialFailure];
}

export interface OutboundTrunkCallDeps {
  readonly stack: SipStack;
  /** The trunk and the slot the call holds; both undefined when `refusal` says why it cannot be dialled. */
  readonly trunk: Trunk | undefined;
  readonly slot: TrunkSlot | undefined;
  readonly digest: DigestClient | undefined;
  readonly logger: Logger;
  /** A failure decided before any INVITE (bad number, tenant not allowed, trunk full): reported on start. */
  readonly refusal?: TrunkDialFailure | undefined;
  readonly onChallenge?: (status: 401 | 407, answered: boolean) => void;
}

export interface DialRequest {
  /** E.164 of the number to call (already normalised by the service). */
  readonly to: string;
  /** E.164 caller ID: the web session's number. */
  readonly callerNumber: string;
  readonly callerName?: string | undefined;
  /** Ask the network to withhold the caller ID from the called party (`Privacy: id`). */
  readonly privacy?: boolean | undefined;
  /** The SDP offer (PCMU/PCMA as the trunk allows: the leg builds it from `trunk.codecs`). */
  readonly sdp: Buffer | string;
  /** Extra headers (X-Parley-Call…). */
  readonly headers?: readonly (readonly [string, string])[] | undefined;
  /** Max-Forwards (a B2BUA passes the inbound one less one, RFC 7332 §3). Default 70. */
  readonly maxForwards?: number | undefined;
  /** CANCEL after this long without an answer; the failure is `no_answer`. */
  readonly ringTimeoutMs?: number | undefined;
}
