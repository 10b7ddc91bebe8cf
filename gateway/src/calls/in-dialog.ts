/**
 * Requests within an answered call's dialogs (BYE and ACK are the legs' own):
 *
 * - re-INVITE (hold, resume, a codec change) goes to the joined leg and its
 *   answer comes back, each side seeing only the gateway's media address; one
 *   at a time per call, a crossing one is answered 491 (RFC 3261 §14.2). A
 *   phone's re-INVITE toward a browser's leg is answered by the gateway, and
 *   read as hold or resume (RFC 6337 §5.3). The browser's own re-INVITE (an
 *   ICE restart when its network changed) is answered by its WebRTC transport.
 * - INFO passes to the joined leg; a browser's DTMF INFO (application/dtmf-relay)
 *   becomes RFC 4733 events in the audio when the other leg negotiated them.
 * - hold notices: the caller's widget is told on the data channel why it hears
 *   silence.
 * - a leg joined to no other (the gateway answered the caller itself) is
 *   answered here: its re-INVITE locally, its DTMF reported.
 */
import type { Logger } from '../observability/index.js';
import type { ServerTransaction, SipRequest } from '../sip/index.js';
import type { InboundLeg } from './inbound-leg.js';
import { LEG_ALLOW } from './leg.js';
import type { OutboundLeg } from './outbound-leg.js';
import {
  localAnswer,
  offerDirection,
  readLegSdp,
  relaySdp,
  sdpText,
  type LegSdp,
} from './sdp-bridge.js';

export type CallLeg = InboundLeg | OutboundLeg;

export interface InDialogDeps {
  readonly log: Logger;
  /**
   * The caller's leg: its data channel gets the hold notices; its browser's
   * DTMF becomes events. (An outbound leg for a call the gateway placed itself:
   * a callback's customer.)
   */
  readonly caller: CallLeg;
  /** The leg joined to `leg`, if any. */
  readonly peerOf: (leg: CallLeg) => CallLeg | undefined;
  /** The party on the other side put the caller on hold, or took it off (a re-INVITE the gateway answered). */
  readonly onHold: (held: boolean) => void;
  /** A DTMF digit from an INFO of a leg joined to no other (a flow collecting digits). */
  readonly onDtmf: (leg: CallLeg, digit: string) => void;
  /** A dialog changed (a target refresh, our CSeq): the record keeps dialogs current. */
  readonly onDialogChange: () => void;
  /** The browser restarted ICE (its re-INVITE answered, or refused). */
  readonly onIceRestart?: (ok: boolean) => void;
}

export class InDialog {
  readonly #deps: InDialogDeps;
  #pendingReinvite = false;
  #held = false;

  constructor(deps: InDialogDeps) {
    this.#deps = deps;
  }

  /** Whether the caller is on hold by the other party. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * The caller is put on hold or taken off it (the desk, or a phone's
   * re-INVITE toward a browser leg): a notice on the caller's data channel.
   * False when nothing changed.
   */
  hold(held: boolean): boolean {
    if (held === this.#held) return false;
    this.#held = held;
    this.#deps.log.info(
      { held },
      held ? 'agent put the visitor on hold' : 'agent resumed the call',
    );
    this.sendToCaller(
      JSON.stringify({
        type: 'notice',
        code: 'hold',
        held,
        reason: held ? 'the agent put the call on hold' : 'the agent resumed the call',
      }),
    );
    return true;
  }

  /** A data-channel message to the caller; false when the channel is not open (or there is none). */
  sendToCaller(text: string): boolean {
    const media = this.#deps.caller.media;
    return media?.kind === 'webrtc' ? media.sendMessage(text) : false;
  }

  /** An in-dialog request of `leg` (CSeq checked by the leg). */
  handle(leg: CallLeg, request: SipRequest, tx: ServerTransaction): void {
    const peer = this.#deps.peerOf(leg);
    switch (request.method) {
      case 'INVITE':
        if (peer) this.#forwardReinvite(leg, peer, request, tx);
        else this.#answerLocally(leg, request, tx, false);
        return;
      case 'INFO':
        if (this.#dtmfAsEvents(leg, peer, request, tx)) return;
        if (peer) this.#forwardInfo(leg, request, tx, peer);
        else this.#loneInfo(leg, request, tx);
        return;
      case 'OPTIONS':
        leg.respond(tx, 200);
        return;
      case 'UPDATE':
        if (request.body.length === 0) leg.respond(tx, 200);
        else leg.respond(tx, 488, { reason: 'Use re-INVITE To Change Media' });
        return;
      default:
        leg.respond(tx, 405, { headers: [['Allow', LEG_ALLOW]] });
    }
  }

  /** Hold, resume, codec change: the re-INVITE goes to the other leg, its answer comes back. */
  #forwardReinvite(leg: CallLeg, peer: CallLeg, request: SipRequest, tx: ServerTransaction): void {
    if (this.#pendingReinvite) {
      leg.respond(tx, 491); // RFC 3261 §14.2: glare
      return;
    }
    const offer = readLegSdp(request.body);
    const from = leg.media;
    const to = peer.media;
    const own = leg.dialog;
    if (!offer || !from || !to || !own) {
      leg.respond(tx, 488);
      return;
    }
    if (from.kind === 'webrtc') {
      // The browser's own re-INVITE (an ICE restart after a network change):
      // answered by its transport; the other leg's media does not change.
      this.#renegotiateBrowser(leg, request, tx);
      return;
    }
    if (to.kind === 'webrtc') {
      // The browser leg cannot be renegotiated: the gateway answers the hold/resume itself.
      this.#answerLocally(leg, request, tx, true);
      return;
    }
    own.refreshTarget(request);
    const relayed = relaySdp(offer, to, peer.sentSdp);
    const sent = peer.request('INVITE', { body: sdpText(relayed), contentType: 'application/sdp' });
    if (!sent) {
      leg.respond(tx, 488);
      return;
    }
    peer.sentSdp = relayed;
    this.#pendingReinvite = true;
    this.#deps.onDialogChange();
    const finish = (status: number, answer?: LegSdp) => {
      this.#pendingReinvite = false;
      if (!answer) {
        leg.respond(tx, status);
        return;
      }
      leg.aimAt(offer);
      peer.aimAt(answer);
      const back = relaySdp(answer, from, leg.sentSdp);
      leg.sentSdp = back;
      leg.respond(tx, 200, {
        contentType: 'application/sdp',
        body: sdpText(back),
        headers: [['Contact', `<${own.localContact}>`]],
      });
    };
    sent.tx.on('response', (response) => {
      if (response.status < 200) return;
      if (response.status < 300) {
        const other = peer.dialog;
        if (other) {
          peer.sendAck(other.createRequest('ACK', { cseq: sent.request.cseq.seq }));
          if (this.#pendingReinvite) other.refreshTarget(response);
        }
        if (this.#pendingReinvite) {
          this.#deps.onDialogChange();
          const answer = readLegSdp(response.body);
          finish(answer ? 200 : 488, answer);
        }
        return;
      }
      finish(response.status);
    });
    sent.tx.on('timeout', () => finish(408));
    sent.tx.on('transportError', () => finish(503));
  }

  /**
   * The gateway answers a re-INVITE itself: toward a browser leg (which cannot
   * be renegotiated), or on a leg joined to no other. sendonly or inactive
   * from the party is hold (RFC 6337 §5.3).
   */
  #answerLocally(leg: CallLeg, request: SipRequest, tx: ServerTransaction, notify: boolean): void {
    const offer = readLegSdp(request.body);
    const media = leg.media;
    const own = leg.dialog;
    if (!offer || !media || !own) {
      leg.respond(tx, 488);
      return;
    }
    if (media.kind === 'webrtc') {
      this.#renegotiateBrowser(leg, request, tx);
      return;
    }
    own.refreshTarget(request);
    leg.aimAt(offer);
    if (notify) {
      const offered = offerDirection(offer);
      this.#deps.onHold(offered === 'sendonly' || offered === 'inactive');
    }
    const answer = localAnswer(offer, media, leg.sentSdp);
    leg.sentSdp = answer;
    leg.respond(tx, 200, {
      contentType: 'application/sdp',
      body: sdpText(answer),
      headers: [['Contact', `<${own.localContact}>`]],
    });
    this.#deps.onDialogChange();
  }

  /**
   * A browser's re-INVITE: its WebRTC transport answers (RFC 8839 §4.4.1.1.1:
   * new ICE credentials restart ICE; the DTLS session and the codec stay). One
   * at a time, like every re-INVITE of the call.
   */
  #renegotiateBrowser(leg: CallLeg, request: SipRequest, tx: ServerTransaction): void {
    const media = leg.media;
    const own = leg.dialog;
    if (media?.kind !== 'webrtc' || !own) {
      leg.respond(tx, 488);
      return;
    }
    if (this.#pendingReinvite) {
      leg.respond(tx, 491); // RFC 3261 §14.2: glare
      return;
    }
    this.#pendingReinvite = true;
    own.refreshTarget(request);
    media.renegotiate(request.body.toString('utf8')).then(
      (answer) => {
        this.#pendingReinvite = false;
        leg.respond(tx, 200, {
          contentType: 'application/sdp',
          body: answer,
          headers: [['Contact', `<${own.localContact}>`]],
        });
        this.#deps.log.info('browser renegotiated (ICE restart)');
        this.#deps.onDialogChange();
        this.#deps.onIceRestart?.(true);
      },
      (error: unknown) => {
        this.#pendingReinvite = false;
        this.#deps.log.warn({ err: error }, 'browser re-offer refused');
        leg.respond(tx, 488, { reason: 'Offer Not Acceptable' });
        this.#deps.onIceRestart?.(false);
      },
    );
  }

  /**
   * A browser's DTMF arrives as INFO (application/dtmf-relay); when the other
   * leg negotiated telephone-event, it goes on as RFC 4733 events in the audio
   * stream, which every phone and PBX understands. True when handled here.
   */
  #dtmfAsEvents(
    leg: CallLeg,
    peer: CallLeg | undefined,
    request: SipRequest,
    tx: ServerTransaction,
  ): boolean {
    const media = leg.media;
    if (
      leg !== this.#deps.caller ||
      media?.kind !== 'webrtc' ||
      !isDtmfRelay(request) ||
      !peer?.codec?.telephoneEvent
    )
      return false;
    const relay = readDtmfRelay(request);
    if (!relay) {
      leg.respond(tx, 400, { reason: 'Bad DTMF Relay Body' });
      return true;
    }
    leg.respond(tx, 200);
    void media.sendDtmf(relay.digit, Math.min(Math.max(relay.durationMs, 40), 2000));
    this.#deps.log.debug({ digit: relay.digit }, 'DTMF sent to the agent as RFC 4733 events');
    return true;
  }

  /** INFO (DTMF from browsers, RFC 6086 packages) passes to the other leg unchanged. */
  #forwardInfo(leg: CallLeg, request: SipRequest, tx: ServerTransaction, peer: CallLeg): void {
    const headers: [string, string][] = [];
    for (const name of ['Info-Package', 'Content-Disposition']) {
      const value = request.headers.get(name);
      if (value) headers.push([name, value]);
    }
    const sent = peer.request('INFO', {
      headers,
      ...(request.body.length > 0
        ? { body: request.body, contentType: request.contentType ?? 'application/octet-stream' }
        : {}),
    });
    const respond = (status: number) => leg.respond(tx, status);
    if (!sent) {
      respond(481);
      return;
    }
    this.#deps.onDialogChange();
    sent.tx.on('response', (response) => {
      if (response.status >= 200) respond(response.status);
    });
    sent.tx.on('timeout', () => respond(408));
    sent.tx.on('transportError', () => respond(503));
  }

  /** INFO on a leg joined to no other: a DTMF digit is reported; other packages are not ours. */
  #loneInfo(leg: CallLeg, request: SipRequest, tx: ServerTransaction): void {
    const relay = isDtmfRelay(request) ? readDtmfRelay(request) : undefined;
    if (!relay) {
      leg.respond(tx, 469, { reason: 'Bad Info Package' });
      return;
    }
    leg.respond(tx, 200);
    this.#deps.onDtmf(leg, relay.digit);
  }
}

function isDtmfRelay(request: SipRequest): boolean {
  const type = (request.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  return type === 'application/dtmf-relay';
}

/** `Signal=5\r\nDuration=160`: the digit and how long it was pressed. */
function readDtmfRelay(request: SipRequest): { digit: string; durationMs: number } | undefined {
  const body = request.body.toString('utf8');
  const digit = /Signal\s*=\s*([0-9*#A-Da-d])/.exec(body)?.[1];
  if (!digit) return undefined;
  return { digit, durationMs: Number(/Duration\s*=\s*(\d+)/.exec(body)?.[1] ?? 160) };
}
