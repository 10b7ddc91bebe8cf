/**
 * An inbound leg: a party that called the gateway, and we are its UAS (RFC
 * 3261 §13.3). Today the browser visitor (WebRTC over the SIP WebSocket) and
 * the SIP visitor; next the call from the telephone network (a trunk).
 *
 *              ring() (180)
 *   offered ───────────────▶ ringing
 *     │  │                     │
 *     │  │  earlyMedia() (183 with our SDP)
 *     │  └──────────────▶ early ◀──┘
 *     │                     │
 *     │  answer() (200)     │ answer() (200, the same SDP)
 *     └──────────────▶ answered ◀──┘
 *
 *   any state ──▶ ended: refuse() (a final failure with a Reason), CANCEL
 *   (answered 487), BYE (answered 200), hangUp() (our BYE), no ACK for our 200
 *   (RFC 3261 §13.3.1.4: a BYE is sent), the connection closing.
 *
 * The answer's SDP is made first (`prepareAnswer`: werift's WebRTC answer with
 * one codec, or a plain answer), then sent as 183 or 200: the call joins the
 * media in between, so audio flows the moment the caller has our answer.
 */
import { ERROR_CODES, ParleyError } from '@parley/shared/errors';
import type { MediaRouter, MediaTransport } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import {
  Dialog,
  generateTag,
  type Flow,
  type InviteServerTransaction,
  type ServerTransaction,
  type SipRequest,
  type SipStack,
} from '../sip/index.js';
import { reasonHeader } from '../sbc/refusal.js';
import { REBIND_HEADER } from './rebind.js';
import { VisitorConnection } from './visitor-connection.js';
import { LEG_ALLOW, Leg, byeReason, isErrorCode, type LegEvents } from './leg.js';
import type { VisitorReconnect } from './call-types.js';
import {
  chosenCodec,
  isWebRtcOffer,
  plainAnswer,
  readLegSdp,
  relaySdp,
  sdpText,
  type ChosenCodec,
  type LegSdp,
} from './sdp-bridge.js';

export type InboundLegState = 'offered' | 'ringing' | 'early' | 'answered' | 'ended';

const TRANSITIONS: Readonly<Record<InboundLegState, readonly InboundLegState[]>> = {
  offered: ['ringing', 'early', 'answered', 'ended'],
  ringing: ['early', 'answered', 'ended'],
  early: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
};

/** What the gateway answers an inbound leg's offer with. */
export type AnswerMedia =
  /** Exactly this codec of the caller's offer (the gateway's choice, or the other leg's). */
  | { readonly codec: ChosenCodec }
  /** Plain RTP only: the other leg's SDP pointed at our transport, its codecs passed on as they are. */
  | { readonly relay: LegSdp };

export interface InboundLegInit {
  readonly stack: SipStack;
  readonly invite: SipRequest;
  readonly tx: InviteServerTransaction;
  readonly flow: Flow;
  /** What the leg is to its call (`caller`). */
  readonly name: string;
  readonly logger: Logger;
}

export interface InboundLegEvents extends LegEvents<InboundLegState> {
  /** The visitor's connection: see `CallEvents.reconnect`. */
  reconnect: [outcome: VisitorReconnect, gapMs: number | undefined];
}

export class InboundLeg extends Leg<InboundLegState, InboundLegEvents> {
  readonly invite: SipRequest;
  readonly tx: InviteServerTransaction;
  /** The caller's SDP offer (the SBC admitted only INVITEs with an audio offer). */
  readonly offer: LegSdp;
  /** A browser: its media is WebRTC (ICE, DTLS-SRTP, a data channel), terminated here. */
  readonly webrtc: boolean;
  /** Our To tag: the same in every response, so 180, 183 and 200 make one dialog. */
  readonly localTag = generateTag();
  readonly contact: string;
  #answerBody: string | undefined;
  #webrtcAnswer: Promise<void> | undefined;
  #flow: Flow;
  /** The visitor's own connection, and the reconnect to another (`visitor-connection.ts`). */
  readonly #connection: VisitorConnection;

  constructor(init: InboundLegInit) {
    super(init, 'offered', TRANSITIONS);
    this.invite = init.invite;
    this.tx = init.tx;
    this.#flow = init.flow;
    const offer = readLegSdp(init.invite.body);
    if (!offer) throw new ParleyError('offer_required', 'an inbound leg needs an audio offer');
    this.offer = offer;
    this.webrtc = isWebRtcOffer(offer);
    this.#connection = new VisitorConnection(init.invite, init.flow, this.webrtc);
    this.once('ended', () => this.#connection.stop());
    this.contact = init.stack.transport.contactUri(init.flow.protocol, 'parley');
    init.tx.on('cancel', () => {
      if (this.ended || init.tx.finalStatus !== undefined) return;
      this.stack.respond(init.tx, 487, { toTag: this.localTag });
      this.finish({ cause: 'cancel', by: 'remote', reason: 'cancelled', status: 487 });
    });
    init.tx.on('timeout', () => {
      // No ACK for our 2xx within 64×T1 (RFC 3261 §13.3.1.4): the caller is gone; end the dialog.
      if (this.state !== 'answered' || this.ended) return;
      this.request('BYE', { headers: [byeReason('visitor_gone')] });
      this.finish({ cause: 'ack_timeout', by: 'remote', reason: 'visitor_gone' });
    });
  }

  /**
   * The connection the leg's requests come over and ours go over: the
   * INVITE's (a browser's WebSocket, a UDP source, a TCP connection), or the
   * one a reconnected browser rebound the call to.
   */
  get flow(): Flow {
    return this.#flow;
  }

  /**
   * A browser over WebSocket: the key that rebinds its call to a new
   * connection (`rebind.ts`), sent in the 200 OK; undefined for others.
   */
  get rebindKey(): string | undefined {
    return this.#connection.rebindKey;
  }

  /** The id of the visitor's own connection (see `clientOf`), which `flowClosed` names. */
  get connection(): string {
    return this.#connection.id;
  }

  /** The visitor's connection closed and the leg waits for it to come back. */
  get reconnecting(): boolean {
    return this.#connection.waiting;
  }

  /**
   * The connection closed: an answered browser leg waits `graceMs` for the
   * widget to reconnect and rebind it (the call, the agent's leg and the media
   * stay); then it ends `reconnect_expired`. False when the leg cannot wait
   * (not answered, not a browser over WebSocket, no grace): `flowClosed()`.
   */
  holdForReconnect(graceMs: number): boolean {
    if (this.ended || this.state !== 'answered') return false;
    if (this.#connection.waiting) return true;
    const waiting = this.#connection.wait(graceMs, () => {
      if (this.ended) return;
      this.log.info({ leg: this.name, graceMs }, 'visitor did not reconnect in time');
      this.emitLeg('reconnect', 'expired', undefined);
      // No BYE: the only way to the browser was the connection that closed.
      this.finish({ cause: 'flow_closed', by: 'remote', reason: 'reconnect_expired' });
    });
    if (!waiting) return false;
    this.log.info(
      { leg: this.name, graceMs },
      'visitor connection closed: waiting for it to reconnect',
    );
    this.emitLeg('reconnect', 'waiting', undefined);
    return true;
  }

  /**
   * A request over another connection than the leg's is a reconnect: it must
   * carry this dialog's rebind key, else it is refused (403
   * `reconnect_refused`) and the call stays with its visitor. Accepted, the
   * leg and its dialog move to the new connection.
   */
  protected override admitRequest(request: SipRequest, tx: ServerTransaction): boolean {
    const check = this.#connection.check(request, tx.flow);
    if (check.kind === 'same') return true;
    if (check.kind === 'refused') {
      this.log.warn(
        { leg: this.name, connection: check.connection, method: request.method },
        "reconnect refused: not this call's rebind key (or another origin)",
      );
      this.respond(tx, ERROR_CODES.reconnect_refused.sip, {
        headers: [reasonHeader('reconnect_refused')],
      });
      this.emitLeg('reconnect', 'refused', undefined);
      return false;
    }
    this.#flow = tx.flow;
    if (this.dialog) this.dialog.flow = tx.flow;
    this.log.info(
      { leg: this.name, from: check.from, to: check.to, gapMs: check.gapMs },
      'visitor reconnected: call rebound',
    );
    this.emitLeg('reconnect', 'rebound', check.gapMs);
    return true;
  }

  /**
   * Opens the leg's media transport on the call's router: WebRTC for a
   * browser, else plain RTP pointed where the offer says the caller receives.
   */
  async openMedia(router: MediaRouter, name = this.name): Promise<MediaTransport> {
    const transport = this.webrtc
      ? await router.createWebRtcTransport({ name })
      : await router.createPlainTransport({ name });
    this.useMedia(transport);
    this.aimAt(this.offer);
    return transport;
  }

  /** The caller hears ringing (180; a browser plays its own ringback). Again on each call: resent. */
  ring(): void {
    if (this.ended || this.tx.finalStatus !== undefined) return;
    this.stack.respond(this.tx, 180, {
      toTag: this.localTag,
      headers: [['Contact', `<${this.contact}>`]],
    });
    if (this.state === 'offered') this.transition('ringing');
  }

  /**
   * The codec a browser's leg is bound to once its answer was asked for
   * (werift answers an offer once: an agent's early media, the gateway's own
   * answer): every later answer, agent offer and media app must keep it.
   * Undefined for a plain leg, whose answer may still change before the 200.
   */
  get fixedCodec(): ChosenCodec | undefined {
    return this.webrtc ? this.codec : undefined;
  }

  /**
   * Makes our SDP answer (needs the media transport). A browser's leg is
   * answered once (werift cannot answer twice): later calls keep that answer.
   * A plain leg's answer may change before the 200 (early media from one
   * party, the answer of another): its o= line continues (RFC 3264 §8).
   * Resolves false when the leg ended meanwhile.
   */
  async prepareAnswer(media: AnswerMedia): Promise<boolean> {
    const transport = this.media;
    if (!transport) throw new ParleyError('internal', `leg ${this.name} has no media transport`);
    if (this.ended || this.state === 'answered') return !this.ended;
    if (transport.kind === 'webrtc') {
      if (!('codec' in media))
        throw new ParleyError('internal', 'a WebRTC leg is answered with one codec');
      const { codec, telephoneEvent } = media.codec;
      // Once, even when asked twice at the same time: werift answers an offer once. The
      // codec is the leg's from the first request on (what is offered next must keep it);
      // an answer that failed may be tried again.
      if (!this.#webrtcAnswer) {
        this.settleCodec(media.codec);
        this.#webrtcAnswer = transport
          .answer(this.invite.body.toString('utf8'), codec, telephoneEvent)
          .then(
            (body) => {
              this.#answerBody = body;
            },
            (error: unknown) => {
              this.#webrtcAnswer = undefined;
              this.settleCodec(undefined);
              throw error;
            },
          );
      }
      await this.#webrtcAnswer;
      return !this.ended;
    }
    const sdp =
      'codec' in media
        ? plainAnswer(this.offer, media.codec.codec, transport, String(Date.now()))
        : relaySdp(media.relay, transport, this.sentSdp);
    this.sentSdp = sdp;
    this.#answerBody = sdpText(sdp);
    this.settleCodec('codec' in media ? media.codec : chosenCodec(media.relay));
    return true;
  }

  /**
   * Answers with `codec` (the gateway's own choice): 183 early media, 180
   * with SDP (`ringing`: media set up, the caller's own ringback), or 200.
   * False when the leg ended.
   */
  async answerWith(codec: ChosenCodec, how: 'early' | 'ringing' | 'answer'): Promise<boolean> {
    if (!(await this.prepareAnswer({ codec }))) return false;
    if (how === 'answer') this.answer();
    else this.earlyMedia(how === 'ringing' ? 180 : 183);
    return true;
  }

  /**
   * Early media: 183 with the prepared answer (the caller hears what the
   * leg's transport sends), or 180 with it (RFC 3960 §3: the caller plays its
   * own ringback until media arrives; its ICE and DTLS run meanwhile).
   */
  earlyMedia(status: 180 | 183 = 183): void {
    if (this.ended || this.state === 'answered') return;
    this.stack.respond(this.tx, status, {
      toTag: this.localTag,
      headers: [['Contact', `<${this.contact}>`]],
      contentType: 'application/sdp',
      body: this.#preparedBody(),
    });
    this.transition('early');
  }

  /** Answers: 200 with the prepared answer; the dialog is filed and its requests come here. */
  answer(): void {
    if (this.ended || this.state === 'answered') return;
    this.stack.respond(this.tx, 200, {
      toTag: this.localTag,
      headers: [
        ['Contact', `<${this.contact}>`],
        ['Allow', LEG_ALLOW],
        ...(this.rebindKey === undefined
          ? []
          : ([[REBIND_HEADER, this.rebindKey]] as [string, string][])),
      ],
      contentType: 'application/sdp',
      body: this.#preparedBody(),
    });
    this.fileDialog(Dialog.asUas(this.invite, this.localTag, this.flow, this.contact));
    this.transition('answered');
  }

  /**
   * Refuses the call: a final failure status (the code's own SIP status by
   * default) with a Reason carrying `reason` when it is a Parley code. Once a
   * final was sent, nothing. Returns the status sent.
   */
  refuse(reason: string, status?: number): number | undefined {
    if (this.ended || this.tx.finalStatus !== undefined) return undefined;
    const code = isErrorCode(reason) ? reason : undefined;
    const final = status ?? (code ? ERROR_CODES[code].sip : 500);
    this.stack.respond(this.tx, final, {
      toTag: this.localTag,
      headers: code ? [reasonHeader(code, final)] : [],
    });
    this.finish({ cause: 'refused', by: 'local', reason, status: final });
    return final;
  }

  /**
   * The connection the INVITE came over closed (a browser's WebSocket): the
   * leg ends, with a BYE (or a final response) that may still reach a phone.
   */
  flowClosed(): void {
    if (this.ended) return;
    let status: number | undefined;
    if (this.dialog) this.request('BYE', { headers: [byeReason('visitor_gone')] });
    else if (this.tx.finalStatus === undefined) {
      status = ERROR_CODES.visitor_gone.sip;
      this.stack.respond(this.tx, status, {
        toTag: this.localTag,
        headers: [reasonHeader('visitor_gone')],
      });
    }
    this.finish({ cause: 'flow_closed', by: 'remote', reason: 'visitor_gone', status });
  }

  protected terminate(reason: string): void {
    if (this.tx.finalStatus === undefined) this.refuse(reason);
    else if (this.dialog) this.hangUp(reason);
    else this.finish({ cause: 'hung_up', by: 'local', reason });
  }

  #preparedBody(): string {
    if (this.#answerBody === undefined)
      throw new ParleyError('internal', `leg ${this.name}: prepareAnswer() first`);
    return this.#answerBody;
  }
}
