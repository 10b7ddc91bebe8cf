/**
 * An outbound leg: the gateway calls a party, and we are its UAC (RFC 3261
 * §13.2). Today the agent (a registered phone, the desk's softphone over
 * WebSocket, a fixed contact); next a trunk to the telephone network, or any
 * SIP URI. The INVITE is built by whoever dials (`agent-request.ts` for agents).
 *
 *              1xx                 183 with SDP
 *   calling ────────▶ ringing ─────────────────▶ early
 *      │                 │                         │
 *      │  2xx (ACKed)    │ 2xx                     │ 2xx
 *      └────────────▶ answered ◀──────────────────┘
 *
 *   calling, ringing, early ──cancel()──▶ cancelling ──final, timeout──▶ ended
 *   calling, ringing, early ──3xx-6xx, no answer (Timer B), not sent──▶ ended (`failed`)
 *   answered ──BYE, hangUp()──▶ ended
 *
 * A 2xx that comes after a CANCEL (or after the leg was closed) is ACKed and
 * hung up at once (RFC 3261 §9.1 allows the race); a retransmitted 2xx is
 * ACKed again (§13.2.2.4).
 *
 * The leg sends its INVITE itself, or another module does (`InviteDriver`: a
 * trunk's dialer, which fails over between carrier peers, answers digest
 * challenges and ACKs the 2xx) and reports to the leg, which then behaves
 * the same to its owner.
 */
import { ParleyError } from '@parley/shared/errors';
import type { Logger } from '../observability/index.js';
import {
  Dialog,
  type InviteClientTransaction,
  type SipRequest,
  type SipResponse,
  type SipStack,
  type Target,
} from '../sip/index.js';
import { Leg, byeReason, type LegEvents } from './leg.js';
import { chosenCodec, readLegSdp, sdpText, type ChosenCodec, type LegSdp } from './sdp-bridge.js';

export type OutboundLegState =
  'calling' | 'ringing' | 'early' | 'answered' | 'cancelling' | 'ended';

const TRANSITIONS: Readonly<Record<OutboundLegState, readonly OutboundLegState[]>> = {
  calling: ['ringing', 'early', 'answered', 'cancelling', 'ended'],
  ringing: ['early', 'answered', 'cancelling', 'ended'],
  early: ['answered', 'cancelling', 'ended'],
  answered: ['ended'],
  cancelling: ['ended'],
  ended: [],
};

/** What a failure response (or none) means, whoever the party is. */
export type OutboundFailureCause = 'busy' | 'no_answer' | 'unreachable';

export interface OutboundFailure {
  /** The final status (408 when nothing came, 503 when the INVITE could not be sent, 488 for a 2xx without SDP). */
  readonly status: number;
  readonly cause: OutboundFailureCause;
}

export interface OutboundLegEvents extends LegEvents<OutboundLegState> {
  /** A provisional response (not 100); with its SDP when it is a 183 with early media. */
  progress: [SipResponse, LegSdp | undefined];
  /** The party answered with this SDP (ACK sent, dialog filed), in this 2xx (its headers: a device's ticket). */
  answered: [LegSdp, SipResponse];
  /** It ended before an answer (not by our CANCEL): the final status and what it means. */
  failed: [OutboundFailure];
}

/**
 * Who sends a leg's INVITE when the leg does not (a trunk's dialer,
 * `trunk-agent-leg.ts`): it reports what comes back; the leg keeps the states.
 */
export interface InviteDriver {
  /** The Call-ID of the INVITE(s) it sends. */
  readonly callId: string;
  /** Sends the INVITE; what comes back goes to `report`. */
  start(report: InviteReport): void;
  /** CANCELs it (as `OutboundLeg.cancel`); the end comes as `report.failed`. */
  cancel(reason: string): void;
}

export interface InviteReport {
  /** A provisional response (not 100), with its early SDP when a 183 has one. */
  progress(response: SipResponse): void;
  /** A 2xx, ACKed by the driver: the leg takes the dialog; `invite` is the one it answered. */
  answered(invite: SipRequest, dialog: Dialog, response: SipResponse): void;
  /** No answer: the final status (or 408/503 when none came) and what it means. */
  failed(status: number, cause: OutboundFailureCause): void;
}

/** The target of a driven leg, which sends nothing outside its dialog itself. */
const NOWHERE: Target = { protocol: 'UDP', address: '0.0.0.0', port: 0 };

export interface OutboundLegInit {
  readonly stack: SipStack;
  /** The INVITE to send (with its SDP offer). */
  readonly invite: SipRequest;
  readonly target: Target;
  /** What the leg is to its call (`agent:<id>`). */
  readonly name: string;
  readonly logger: Logger;
}

export class OutboundLeg extends Leg<OutboundLegState, OutboundLegEvents> {
  #invite: SipRequest;
  readonly target: Target;
  #ict: InviteClientTransaction | undefined;
  #driver: InviteDriver | undefined;
  #driving = false;
  #answerSdp: LegSdp | undefined;
  #cancelReason: string | undefined;
  /** The dialog of a 2xx, answered or hung up at once, and our ACK: to ACK its retransmissions. */
  #acked: { dialog: Dialog; ack: SipRequest } | undefined;

  constructor(init: OutboundLegInit) {
    super(init, 'calling', TRANSITIONS);
    this.#invite = init.invite;
    this.target = init.target;
  }

  /**
   * A leg whose INVITE `driver` sends (a trunk's dialer). `invite` is the
   * request as offered (the driver's Call-ID and our SDP offer); once
   * answered, the leg holds the INVITE the driver saw answered.
   */
  static driven(
    init: Omit<OutboundLegInit, 'target'> & { readonly driver: InviteDriver },
  ): OutboundLeg {
    // Where the INVITE goes is the driver's to choose (a trunk's peers, in turn):
    // the leg itself sends nothing there; in-dialog requests follow the dialog.
    const leg = new OutboundLeg({ ...init, target: NOWHERE });
    leg.#driver = init.driver;
    return leg;
  }

  /**
   * A leg whose INVITE another module sent and saw answered (a trunk's dialer,
   * which retries with digest credentials and ACKs the 2xx): the leg takes
   * over the dialog (BYE, re-INVITE, INFO) and the answer, in state `answered`.
   */
  static adopt(
    init: OutboundLegInit & { readonly dialog: Dialog; readonly answer: LegSdp },
  ): OutboundLeg {
    const leg = new OutboundLeg(init);
    leg.#answerSdp = init.answer;
    leg.fileDialog(init.dialog);
    leg.transition('answered');
    return leg;
  }

  /** The INVITE sent (for a driven leg: as offered, then the one answered). */
  get invite(): SipRequest {
    return this.#invite;
  }

  get callId(): string {
    return this.#invite.callId;
  }

  /** The party's SDP answer, once answered. */
  get answerSdp(): LegSdp | undefined {
    return this.#answerSdp;
  }

  /** Sends the INVITE. Listen first: responses arrive as events. */
  start(): void {
    if (this.#ict || this.#driving || this.state !== 'calling')
      throw new ParleyError('internal', `leg ${this.name} started twice`);
    if (this.#driver) {
      this.#driving = true;
      this.#driver.start({
        progress: (response) => this.#onResponse(response),
        answered: (invite, dialog, response) => this.#onDrivenAnswer(invite, dialog, response),
        failed: (status, cause) => this.#over(status, cause),
      });
      return;
    }
    const ict = this.stack.transactions.request(
      this.#invite,
      this.target,
    ) as InviteClientTransaction;
    this.#ict = ict;
    ict.on('response', (response) => this.#onResponse(response));
    ict.on('timeout', () => this.#over(408, 'unreachable'));
    ict.on('transportError', (error) => {
      this.log.warn({ err: error, leg: this.name }, 'INVITE could not be sent');
      this.#over(503, 'unreachable');
    });
  }

  /**
   * Cancels the INVITE (once a provisional came, RFC 3261 §9.1), with a Reason
   * (RFC 3326): cause 200 "Call completed elsewhere" for `answered_elsewhere`,
   * else cause 487 with `reason`. The leg ends with the final response; close()
   * ends it at once (a phone that froze may never answer the CANCEL).
   */
  cancel(reason: string): void {
    const ict = this.#ict;
    if ((!ict && !this.#driving) || !['calling', 'ringing', 'early'].includes(this.state)) return;
    this.#cancelReason = reason;
    this.transition('cancelling');
    if (!ict) {
      this.#driver?.cancel(reason);
      return;
    }
    ict.cancel((cancel) => {
      cancel.headers.set(
        'Reason',
        reason === 'answered_elsewhere'
          ? 'SIP;cause=200;text="Call completed elsewhere"'
          : `SIP;cause=487;text="${reason}"`,
      );
      this.stack.transactions.sendCancel(cancel, ict);
    });
  }

  /**
   * Takes the answer's media: a WebRTC transport accepts the browser's answer,
   * a plain one is pointed at the party. Resolves with the codec it settled on.
   */
  async acceptAnswer(): Promise<ChosenCodec | undefined> {
    const answer = this.#answerSdp;
    const media = this.media;
    if (!answer || !media) return undefined;
    if (media.kind === 'webrtc') {
      const codec = await media.accept(sdpText(answer.sdp));
      this.settleCodec({ codec, telephoneEvent: undefined });
    } else {
      this.aimAt(answer);
      // What we offered: later SDP on this leg continues its o= line (RFC 3264 §8).
      this.sentSdp = readLegSdp(this.#invite.body)?.sdp;
      this.settleCodec(chosenCodec(answer));
    }
    return this.codec;
  }

  protected terminate(reason: string): void {
    if (this.state === 'answered') {
      this.hangUp(reason);
      return;
    }
    if (this.state !== 'cancelling') this.cancel(reason);
    this.finish({ cause: 'cancelled', by: 'local', reason: this.#cancelReason ?? reason });
  }

  #onResponse(response: SipResponse): void {
    const status = response.status;
    if (status < 200) {
      if (status === 100 || this.ended || this.state === 'cancelling') return;
      const early = status === 183 ? readLegSdp(response.body) : undefined;
      if (early) this.transition('early');
      else if (this.state === 'calling') this.transition('ringing');
      this.emitLeg('progress', response, early);
      return;
    }
    if (status < 300) {
      this.#onAnswer(response);
      return;
    }
    this.#over(
      status,
      status === 486 || status === 600 || status === 603
        ? 'busy'
        : status === 487 || status === 408 || status === 480
          ? 'no_answer'
          : 'unreachable',
    );
  }

  #onAnswer(response: SipResponse): void {
    if (this.#acked) {
      // A retransmitted 2xx: ACK it again (RFC 3261 §13.2.2.4).
      void this.stack.transactions.sendAck(this.#acked.ack, this.#acked.dialog.target());
      return;
    }
    const dialog = Dialog.asUac(
      this.#invite,
      response,
      this.#ict?.sentOn,
      this.#invite.headers.get('contact')?.replace(/^<|>$/g, '') ?? '',
    );
    const ack = dialog.createRequest('ACK', { cseq: this.#invite.cseq.seq });
    this.#acked = { dialog, ack };
    void this.stack.transactions.sendAck(ack, dialog.target());
    this.#settleAnswer(dialog, response);
  }

  /** A driven leg's 2xx, ACKed by its driver. */
  #onDrivenAnswer(invite: SipRequest, dialog: Dialog, response: SipResponse): void {
    this.#invite = invite;
    this.#settleAnswer(dialog, response);
  }

  /** A 2xx (ACKed): the leg is answered, or hung up when it came after our CANCEL or carries no SDP. */
  #settleAnswer(dialog: Dialog, response: SipResponse): void {
    if (this.ended || this.state === 'cancelling') {
      // Answered after our CANCEL (or after close()): hang up at once.
      this.stack.transactions.request(
        dialog.createRequest('BYE', { headers: [byeReason('cancelled')] }),
        dialog.target(),
      );
      this.finish({
        cause: 'cancelled',
        by: 'local',
        reason: this.#cancelReason ?? 'cancelled',
        status: 200,
      });
      return;
    }
    this.fileDialog(dialog);
    const answer = readLegSdp(response.body);
    if (!answer) {
      // A 2xx to an offer must carry the answer (RFC 3264 §2): the leg is useless.
      this.#hangUpUnanswered();
      return;
    }
    this.#answerSdp = answer;
    this.transition('answered');
    this.emitLeg('answered', answer, response);
  }

  /** A 2xx without SDP: BYE, and the leg failed. */
  #hangUpUnanswered(): void {
    this.request('BYE', { headers: [byeReason('offer_required')] });
    this.#over(488, 'unreachable');
  }

  /** The INVITE ended without an answer: by our CANCEL, or a failure. */
  #over(status: number, cause: OutboundFailure['cause']): void {
    if (this.ended) return;
    if (this.state === 'cancelling') {
      this.finish({
        cause: 'cancelled',
        by: 'local',
        reason: this.#cancelReason ?? 'cancelled',
        status,
      });
      return;
    }
    this.emitLeg('failed', { status, cause });
    this.finish({ cause: 'failed', by: 'remote', reason: cause, status });
  }
}
