/**
 * One outbound call through a trunk, until it is answered or fails: the UAC
 * side of the INVITE transaction(s) toward the carrier.
 *
 * - Peers in the trunk's dial order (up ones only); a 503, a 408, a timeout or
 *   a transport error before any ringing moves to the next peer (RFC 3263 §4.3):
 *   `peer-walk.ts`.
 * - A 401/407 is answered with digest credentials (`DigestClient`) in a new
 *   INVITE: CSeq + 1, same Call-ID and From tag, new branch (RFC 3261 §22.2);
 *   the transaction layer ACKs the challenge itself (§17.1.1.3):
 *   `dial-challenges.ts`.
 * - Provisional responses are reported (`progress`), a 183's SDP as early media.
 * - A 2xx is ACKed with the INVITE's credentials (§22.1, `dial-answer.ts`) and
 *   handed over as a `Dialog` (`answered`); the leg owns it from then on (BYE,
 *   re-INVITE).
 * - `cancel()` CANCELs the transaction in progress, which after a challenge is
 *   the retried one (`dial-cancel.ts`); a 2xx that crosses the CANCEL is ACKed
 *   and hung up.
 *
 * States: dialling → answered | failed. `close()` ends whatever is left and
 * gives the trunk slot back; the owner calls it when the call ends.
 */
import { EventEmitter } from 'node:events';
import type { ErrorCode } from '@parley/shared/errors';
import type { Logger } from '../observability/index.js';
import {
  generateCallId,
  generateTag,
  type InviteClientTransaction,
  type SipRequest,
  type SipResponse,
  type Target,
} from '../sip/index.js';
import { DialAnswers } from './dial-answer.js';
import { cancelledAs, sendCancel, type CancelReason } from './dial-cancel.js';
import { DialChallenges } from './dial-challenges.js';
import {
  failedBeforeDialling,
  failureForFinal,
  failureWhenCancelled,
  type CancelledAs,
} from './dial-failure.js';
import type {
  DialFailureReason,
  DialOutcome,
  DialRequest,
  OutboundTrunkCallDeps,
  OutboundTrunkCallEvents,
  TrunkDialFailure,
} from './dial-types.js';
import { inviteToPeer } from './outbound-invite.js';
import { PeerWalk } from './peer-walk.js';
import type { Trunk, TrunkPeerInfo } from './trunk.js';

export type { OutboundTrunkCallDeps } from './dial-types.js';

export class OutboundTrunkCall extends EventEmitter<OutboundTrunkCallEvents> {
  readonly callId = generateCallId();
  /** Settles once: answered or failed. Never rejects. */
  readonly outcome: Promise<DialOutcome>;
  readonly #deps: OutboundTrunkCallDeps;
  readonly #request: DialRequest;
  readonly #fromTag = generateTag();
  readonly #log: Logger;
  readonly #challenges: DialChallenges;
  readonly #answers: DialAnswers;
  #settle: (outcome: DialOutcome) => void = () => undefined;
  #walk = new PeerWalk([]);
  #cseq = 0;
  #cancelled: CancelledAs | undefined;
  #state: 'dialling' | 'answered' | 'failed' | 'closed' = 'dialling';
  #ringTimer: NodeJS.Timeout | undefined;

  constructor(deps: OutboundTrunkCallDeps, request: DialRequest) {
    super();
    this.#deps = deps;
    this.#request = request;
    this.#log = deps.logger.child({ trunk: deps.trunk?.id ?? '-', callId: this.callId });
    this.#challenges = new DialChallenges(deps.digest, deps.onChallenge);
    this.#answers = new DialAnswers(deps.stack, this.#log, deps.digest);
    this.outcome = new Promise((resolve) => (this.#settle = resolve));
  }

  get state(): 'dialling' | 'answered' | 'failed' | 'closed' {
    return this.#state;
  }

  /**
   * The INVITE out now and where it went, once the carrier sent a provisional
   * response and while nothing final came: what a restart after a crash needs
   * to CANCEL it (RFC 3261 §9.1: no CANCEL before a provisional response).
   */
  ringingInvite(): { readonly invite: SipRequest; readonly target: Target } | undefined {
    return this.#state === 'dialling' ? this.#walk.ringingInvite() : undefined;
  }

  /** @internal The service starts it once the caller could attach listeners. */
  start(): void {
    // Cancelled or closed before it started: nothing goes out.
    if (this.#state !== 'dialling') return;
    const { refusal, trunk } = this.#deps;
    if (refusal || !trunk) {
      const failure =
        refusal ?? failedBeforeDialling('not_allowed', 'trunk_not_allowed', 'no trunk');
      this.#fail(failure.reason, failure.code, failure.detail);
      return;
    }
    this.#walk = new PeerWalk(trunk.dialOrder());
    if (this.#walk.empty) {
      this.#fail('unavailable', 'trunk_unavailable', 'no peer of the trunk is up');
      return;
    }
    if (this.#request.ringTimeoutMs !== undefined) {
      this.#ringTimer = setTimeout(() => this.cancel('no_answer'), this.#request.ringTimeoutMs);
    }
    this.#nextPeer();
  }

  /**
   * Stops a call still dialling: CANCEL now, or as soon as the carrier's first
   * provisional comes. `answered_elsewhere` (a queue's phone agent when another
   * agent took the call) says so in the Reason, cause 200 (RFC 3326), so the
   * phone shows no missed call; the attempt ends `cancelled` all the same.
   */
  cancel(reason: CancelReason = 'cancelled'): void {
    if (this.#state !== 'dialling' || this.#cancelled) return;
    this.#cancelled = cancelledAs(reason);
    const ict = this.#walk.ict;
    if (!ict) {
      const failure = failureWhenCancelled(this.#cancelled);
      this.#fail(failure.reason, failure.code, 'cancelled');
      return;
    }
    this.#log.info({ reason }, 'cancelling the trunk INVITE');
    sendCancel(this.#deps.stack, ict, reason);
  }

  /**
   * Ends the outbound call's life here: cancels it if still dialling and gives
   * the trunk slot back. Safe twice. The owner calls it when the call ends
   * (after its BYE), or to abandon the attempt.
   */
  close(): void {
    if (this.#state === 'dialling') this.cancel('cancelled');
    if (this.#ringTimer) clearTimeout(this.#ringTimer);
    this.#deps.slot?.release();
    if (this.#state === 'answered') this.#state = 'closed';
  }

  #nextPeer(): void {
    const peer = this.#walk.next();
    if (!peer) {
      this.#fail('unavailable', 'trunk_unavailable', this.#walk.exhausted());
      return;
    }
    this.#challenges.reset();
    let invite: SipRequest;
    try {
      invite = inviteToPeer({
        stack: this.#deps.stack,
        trunk: this.#deps.trunk as Trunk,
        request: this.#request,
        peer,
        callId: this.callId,
        fromTag: this.#fromTag,
        cseq: this.#cseq + 1,
      });
    } catch (error) {
      // No listener for the peer's transport: that peer cannot be reached from here.
      this.#log.warn({ err: error, peer: peer.id }, 'cannot send to the trunk peer');
      this.#nextPeer();
      return;
    }
    this.#cseq = invite.cseq.seq;
    this.#send(peer, invite);
  }

  #send(peer: TrunkPeerInfo, invite: SipRequest): void {
    const ict = this.#walk.send(this.#deps.stack, peer, invite);
    this.emit('attempt', peer);
    ict.on('response', (response) => this.#onResponse(ict, peer, response));
    ict.on('timeout', () => this.#onPeerFailure(ict, peer, 408, 'no answer (timeout)'));
    ict.on('transportError', (error) =>
      this.#onPeerFailure(ict, peer, 503, `transport error: ${error.message}`),
    );
  }

  #onResponse(ict: InviteClientTransaction, peer: TrunkPeerInfo, response: SipResponse): void {
    const status = response.status;
    if (status >= 200 && status < 300) {
      this.#onAnswer(ict, peer, response);
      return;
    }
    if (ict !== this.#walk.ict || this.#state !== 'dialling') return;
    if (status < 200) {
      if (status === 100) return;
      this.#walk.rang();
      const sdp =
        status === 183 && response.body.length > 0 && isSdp(response.contentType)
          ? response.body
          : undefined;
      this.emit('progress', {
        status,
        reason: response.reason,
        response,
        earlyMedia: sdp,
        peer,
      });
      return;
    }
    this.#walk.ended(status);
    if (status === 401 || status === 407) {
      this.#onChallenge(peer, response, status);
      return;
    }
    if (this.#walk.movesOn(status, this.#cancelled !== undefined)) {
      this.#log.info({ peer: peer.id, status }, 'trunk peer failed: trying the next one');
      this.#nextPeer();
      return;
    }
    this.#failFor(status, response.reason, peer);
  }

  #onChallenge(peer: TrunkPeerInfo, response: SipResponse, status: 401 | 407): void {
    const invite = this.#walk.invite;
    if (this.#cancelled || !invite) {
      this.#failFor(487, 'cancelled before the challenge was answered', peer);
      return;
    }
    const answer = this.#challenges.answer(invite, response, status);
    if (!answer.ok) {
      this.#fail('auth_failed', 'trunk_auth_failed', answer.detail, status, peer);
      return;
    }
    this.#cseq = answer.retry.cseq.seq;
    this.#log.debug({ peer: peer.id, status, realm: answer.realm }, 'answering the challenge');
    this.emit('challenged', status);
    this.#send(peer, answer.retry);
  }

  #onPeerFailure(
    ict: InviteClientTransaction,
    peer: TrunkPeerInfo,
    status: 408 | 503,
    detail: string,
  ): void {
    if (ict !== this.#walk.ict || this.#state !== 'dialling') return;
    this.#walk.ended(status);
    if (this.#walk.movesOn(status, this.#cancelled !== undefined)) {
      this.#log.info({ peer: peer.id, detail }, 'trunk peer failed: trying the next one');
      this.#nextPeer();
      return;
    }
    if (this.#cancelled) this.#failFor(487, detail, peer);
    else this.#fail('no_answer', 'number_no_answer', detail, status, peer);
  }

  #onAnswer(ict: InviteClientTransaction, peer: TrunkPeerInfo, response: SipResponse): void {
    const wanted = this.#state === 'dialling' && !this.#cancelled && ict === this.#walk.ict;
    const taken = this.#answers.take(ict, response, peer, wanted);
    // A 2xx hung up while still dialling (it crossed our CANCEL): the attempt ends cancelled.
    if (taken.kind === 'hung_up' && this.#state === 'dialling')
      this.#failFor(487, 'answered after CANCEL', peer);
    if (taken.kind !== 'kept') return;
    const { call } = taken;
    this.#state = 'answered';
    if (this.#ringTimer) clearTimeout(this.#ringTimer);
    this.#log.info({ peer: peer.id }, 'trunk call answered');
    this.emit('answered', call);
    this.#settle({ kind: 'answered', call });
  }

  /** A carrier's final status → the failure the caller's side reports. */
  #failFor(status: number, reason: string, peer: TrunkPeerInfo): void {
    // After our CANCEL, whatever final comes (487, or a 503 that crossed it) ends it as asked.
    const failure = failureForFinal(status, this.#cancelled);
    this.#fail(failure.reason, failure.code, `${status} ${reason}`, status, peer);
  }

  #fail(
    reason: DialFailureReason,
    code: ErrorCode | undefined,
    detail: string,
    status?: number,
    peer?: TrunkPeerInfo,
  ): void {
    if (this.#state !== 'dialling') return;
    this.#state = 'failed';
    if (this.#ringTimer) clearTimeout(this.#ringTimer);
    this.#deps.slot?.release();
    const failure: TrunkDialFailure = {
      reason,
      code,
      status,
      detail,
      peer: peer ?? this.#walk.current,
    };
    this.#log.info({ reason, status, detail }, 'trunk call failed');
    this.emit('failed', failure);
    this.#settle({ kind: 'failed', failure });
  }
}

function isSdp(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/sdp';
}
