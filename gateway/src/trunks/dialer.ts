/**
 * One outbound call through a trunk, until it is answered or fails: the UAC
 * side of the INVITE transaction(s) toward the carrier.
 *
 * - Peers in the trunk's dial order (up ones only); a 503, a 408, a timeout or
 *   a transport error before any ringing moves to the next peer (RFC 3263 §4.3).
 * - A 401/407 is answered with digest credentials (`DigestClient`) in a new
 *   INVITE: CSeq + 1, same Call-ID and From tag, new branch (RFC 3261 §22.2);
 *   the transaction layer ACKs the challenge itself (§17.1.1.3).
 * - Provisional responses are reported (`progress`), a 183's SDP as early media.
 * - A 2xx is ACKed here, with the INVITE's credentials (§22.1), and handed over
 *   as a `Dialog` (`answered`); the leg owns it from then on (BYE, re-INVITE).
 * - `cancel()` CANCELs the transaction in progress, which after a challenge is
 *   the retried one; a 2xx that crosses the CANCEL is ACKed and hung up.
 *
 * States: dialling → answered | failed. `close()` ends whatever is left and
 * gives the trunk slot back; the owner calls it when the call ends.
 */
import { EventEmitter } from 'node:events';
import type { ErrorCode } from '@parley/shared/errors';
import type { Logger } from '../observability/index.js';
import type { DigestClient } from '../sip/digest-client.js';
import {
  Dialog,
  generateCallId,
  generateTag,
  type InviteClientTransaction,
  type SipRequest,
  type SipResponse,
  type SipStack,
  type Target,
} from '../sip/index.js';
import { failedBeforeDialling, failureForStatus } from './dial-failure.js';
import type {
  AnsweredTrunkCall,
  DialFailureReason,
  DialOutcome,
  DialRequest,
  OutboundTrunkCallEvents,
  TrunkDialFailure,
} from './dial-types.js';
import { buildTrunkInvite, nextInvite } from './outbound-invite.js';
import type { Trunk, TrunkPeerInfo, TrunkSlot } from './trunk.js';

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

/** Challenges answered per peer before the credentials count as refused. */
const MAX_CHALLENGES = 3;

/** The Reason of the trunk's CANCEL (RFC 3326), by why it is cancelled. */
const CANCEL_REASONS = {
  cancelled: 'SIP;cause=487;text="cancelled"',
  no_answer: 'SIP;cause=487;text="number_no_answer"',
  answered_elsewhere: 'SIP;cause=200;text="Call completed elsewhere"',
} as const;

export class OutboundTrunkCall extends EventEmitter<OutboundTrunkCallEvents> {
  readonly callId = generateCallId();
  /** Settles once: answered or failed. Never rejects. */
  readonly outcome: Promise<DialOutcome>;
  readonly #deps: OutboundTrunkCallDeps;
  readonly #request: DialRequest;
  readonly #fromTag = generateTag();
  readonly #log: Logger;
  #settle: (outcome: DialOutcome) => void = () => undefined;
  #peers: TrunkPeerInfo[] = [];
  #peerIndex = -1;
  #cseq = 0;
  #invite: SipRequest | undefined;
  #target: Target | undefined;
  #ict: InviteClientTransaction | undefined;
  #ringing = false;
  #challenges = 0;
  #cancelled: 'cancelled' | 'no_answer' | undefined;
  #answered: { dialog: Dialog; ack: SipRequest } | undefined;
  #state: 'dialling' | 'answered' | 'failed' | 'closed' = 'dialling';
  #ringTimer: NodeJS.Timeout | undefined;
  #lastStatus: number | undefined;

  constructor(deps: OutboundTrunkCallDeps, request: DialRequest) {
    super();
    this.#deps = deps;
    this.#request = request;
    this.#log = deps.logger.child({ trunk: deps.trunk?.id ?? '-', callId: this.callId });
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
    if (this.#state !== 'dialling' || !this.#ringing || !this.#invite || !this.#target)
      return undefined;
    return { invite: this.#invite, target: this.#target };
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
    this.#peers = trunk.dialOrder();
    if (this.#peers.length === 0) {
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
  cancel(reason: 'cancelled' | 'no_answer' | 'answered_elsewhere' = 'cancelled'): void {
    if (this.#state !== 'dialling' || this.#cancelled) return;
    this.#cancelled = reason === 'no_answer' ? 'no_answer' : 'cancelled';
    const ict = this.#ict;
    if (!ict) {
      const cancelled = this.#cancelled;
      this.#fail(
        cancelled,
        cancelled === 'no_answer' ? 'number_no_answer' : undefined,
        'cancelled',
      );
      return;
    }
    this.#log.info({ reason }, 'cancelling the trunk INVITE');
    ict.cancel((cancel) => {
      cancel.headers.set('Reason', CANCEL_REASONS[reason]);
      this.#deps.stack.transactions.sendCancel(cancel, ict);
    });
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
    this.#peerIndex += 1;
    const peer = this.#peers[this.#peerIndex];
    if (!peer) {
      this.#fail(
        'unavailable',
        'trunk_unavailable',
        `every peer failed (last status ${this.#lastStatus ?? 'none'})`,
      );
      return;
    }
    this.#ringing = false;
    this.#challenges = 0;
    const { stack, trunk } = this.#deps;
    const protocol = peer.transport === 'tcp' ? 'TCP' : 'UDP';
    let invite: SipRequest;
    try {
      const outbound = (trunk as Trunk).settings.outbound;
      invite = buildTrunkInvite({
        peer,
        to: this.#request.to,
        callerNumber: this.#request.callerNumber,
        callerName: this.#request.callerName,
        privacy: this.#request.privacy ?? false,
        format: outbound.numberFormat,
        domain: outbound.domain,
        fromDomain: outbound.fromDomain ?? stack.transport.sentBy(protocol).host,
        callId: this.callId,
        fromTag: this.#fromTag,
        cseq: ++this.#cseq,
        contact: stack.transport.contactUri(protocol, 'parley'),
        maxForwards: this.#request.maxForwards ?? 70,
        userAgent: stack.userAgent,
        sdp: this.#request.sdp,
        headers: this.#request.headers,
      });
    } catch (error) {
      // No listener for the peer's transport: that peer cannot be reached from here.
      this.#log.warn({ err: error, peer: peer.id }, 'cannot send to the trunk peer');
      this.#nextPeer();
      return;
    }
    this.#send(peer, invite);
  }

  #send(peer: TrunkPeerInfo, invite: SipRequest): void {
    const target: Target = {
      protocol: peer.transport === 'tcp' ? 'TCP' : 'UDP',
      address: peer.host.replace(/^\[|\]$/g, ''),
      port: peer.port,
    };
    this.#invite = invite;
    this.#target = target;
    const ict = this.#deps.stack.transactions.request(invite, target) as InviteClientTransaction;
    this.#ict = ict;
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
    if (ict !== this.#ict || this.#state !== 'dialling') return;
    if (status < 200) {
      if (status === 100) return;
      this.#ringing = true;
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
    this.#lastStatus = status;
    if (status === 401 || status === 407) {
      this.#onChallenge(peer, response, status);
      return;
    }
    if ((status === 503 || status === 408) && !this.#ringing && !this.#cancelled) {
      this.#log.info({ peer: peer.id, status }, 'trunk peer failed: trying the next one');
      this.#nextPeer();
      return;
    }
    this.#failFor(status, response.reason, peer);
  }

  #onChallenge(peer: TrunkPeerInfo, response: SipResponse, status: 401 | 407): void {
    const invite = this.#invite;
    if (this.#cancelled || !invite) {
      this.#failFor(487, 'cancelled before the challenge was answered', peer);
      return;
    }
    const digest = this.#deps.digest;
    this.#challenges += 1;
    if (!digest || this.#challenges > MAX_CHALLENGES) {
      this.#deps.onChallenge?.(status, false);
      this.#fail(
        'auth_failed',
        'trunk_auth_failed',
        digest ? 'challenged too often' : 'challenged but the trunk has no auth',
        status,
        peer,
      );
      return;
    }
    const retry = nextInvite(invite);
    this.#cseq = retry.cseq.seq;
    const answer = digest.authorize(retry, response);
    this.#deps.onChallenge?.(status, answer.ok);
    if (!answer.ok) {
      this.#fail('auth_failed', 'trunk_auth_failed', `challenge ${answer.reason}`, status, peer);
      return;
    }
    this.#log.debug({ peer: peer.id, status, realm: answer.realm }, 'answering the challenge');
    this.emit('challenged', status);
    this.#send(peer, retry);
  }

  #onPeerFailure(
    ict: InviteClientTransaction,
    peer: TrunkPeerInfo,
    status: 408 | 503,
    detail: string,
  ): void {
    if (ict !== this.#ict || this.#state !== 'dialling') return;
    this.#lastStatus = status;
    if (!this.#ringing && !this.#cancelled) {
      this.#log.info({ peer: peer.id, detail }, 'trunk peer failed: trying the next one');
      this.#nextPeer();
      return;
    }
    if (this.#cancelled) this.#failFor(487, detail, peer);
    else this.#fail('no_answer', 'number_no_answer', detail, status, peer);
  }

  #onAnswer(ict: InviteClientTransaction, peer: TrunkPeerInfo, response: SipResponse): void {
    const stack = this.#deps.stack;
    const invite = ict.request;
    const answered = this.#answered;
    // A retransmitted 2xx of the dialog we have: ACK it again (§13.2.2.4).
    if (answered && response.to.tag === answered.dialog.remoteTag) {
      void stack.transactions.sendAck(answered.ack, answered.dialog.target());
      return;
    }
    const contact = invite.headers.get('contact')?.replace(/^<|>$/g, '') ?? '';
    const dialog = Dialog.asUac(invite, response, ict.sentOn, contact);
    const ack = dialog.createRequest('ACK', {
      cseq: invite.cseq.seq,
      headers: credentials(invite),
    });
    void stack.transactions.sendAck(ack, dialog.target());
    if (answered || this.#state !== 'dialling' || this.#cancelled || ict !== this.#ict) {
      // Another fork's 2xx, or an answer that crossed our CANCEL: take it and hang up.
      this.#log.info({ peer: peer.id }, 'late or forked 2xx from the carrier: ACK and BYE');
      const bye = dialog.createRequest('BYE', {
        headers: [['Reason', 'SIP;cause=487;text="cancelled"']],
      });
      stack.transactions.request(bye, dialog.target());
      if (this.#state === 'dialling' && !answered)
        this.#failFor(487, 'answered after CANCEL', peer);
      return;
    }
    this.#answered = { dialog, ack };
    this.#state = 'answered';
    if (this.#ringTimer) clearTimeout(this.#ringTimer);
    const digest = this.#deps.digest;
    const call: AnsweredTrunkCall = {
      response,
      invite,
      dialog,
      sdp: response.body,
      peer,
      authorize: (request, challenge) => digest?.authorize(request, challenge).ok ?? false,
    };
    this.#log.info({ peer: peer.id }, 'trunk call answered');
    this.emit('answered', call);
    this.#settle({ kind: 'answered', call });
  }

  /** A carrier's final status → the failure the caller's side reports. */
  #failFor(status: number, reason: string, peer: TrunkPeerInfo): void {
    // After our CANCEL, whatever final comes (487, or a 503 that crossed it) ends it as asked.
    const failure =
      this.#cancelled === undefined
        ? failureForStatus(status)
        : {
            reason: this.#cancelled,
            code: this.#cancelled === 'no_answer' ? ('number_no_answer' as const) : undefined,
          };
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
      peer: peer ?? this.#peers[this.#peerIndex],
    };
    this.#log.info({ reason, status, detail }, 'trunk call failed');
    this.emit('failed', failure);
    this.#settle({ kind: 'failed', failure });
  }
}

/** RFC 3261 §22.1: the ACK for a 2xx carries the INVITE's credentials. */
function credentials(invite: SipRequest): [string, string][] {
  return [
    ...invite.headers.getLines('authorization').map((v): [string, string] => ['Authorization', v]),
    ...invite.headers
      .getLines('proxy-authorization')
      .map((v): [string, string] => ['Proxy-Authorization', v]),
  ];
}

function isSdp(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/sdp';
}
