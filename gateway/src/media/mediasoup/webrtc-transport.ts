/**
 * A browser's end of a call in the mediasoup engine: a WebRtcTransport on the
 * worker's WebRtcServer (ICE-lite, DTLS-SRTP, SCTP; webrtc-worker-transport.ts),
 * a producer of the browser's audio, and (once piped) a consumer of the other
 * leg's. SDP is written from the transport's parameters (webrtc-sdp.ts); the
 * browser gets exactly the codec the agent chose (webrtc-negotiation.ts), so
 * nothing is transcoded.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { types } from 'mediasoup';
import { ParleyError } from '@parley/shared/errors';
import type {
  AudioCodec,
  TransportStats,
  WebRtcTransport,
  WebRtcTransportEvents,
} from '../engine.js';
import { TransportCounters } from '../rtp-channel.js';
import { isRoutable, legCapabilities } from './codecs.js';
import { DataChannel } from './data-channel.js';
import type { DtmfSender } from './dtmf.js';
import { acceptAnswer, answerOffer, iceUfrag, type Negotiated } from './webrtc-negotiation.js';
import { answerSdp, offerSdp, readBrowserSdp, type BrowserDescription } from './webrtc-sdp.js';
import {
  connectDtls,
  followStates,
  localParameters,
  produceBrowserAudio,
  type LegState,
} from './webrtc-worker-transport.js';

export type { Negotiated } from './webrtc-negotiation.js';

export interface MsWebRtcTransportOptions {
  readonly name: string;
  /**
   * The worker's transport, made once the codecs are known (a router numbers
   * them as this leg does; see codecs.ts routerCodecs).
   */
  readonly create: (codecs: readonly AudioCodec[]) => Promise<{
    readonly router: types.Router;
    readonly transport: types.WebRtcTransport;
    /** The data channel on stream 0, when it was prepared with the transport. */
    readonly data?: DataChannel;
  }>;
  /** The call's DirectTransport on the leg's router (the data channel), made on first use. */
  readonly direct: (router: types.Router) => Promise<types.DirectTransport>;
  readonly dtmf: () => DtmfSender | undefined;
  readonly logger: Logger;
  readonly onClose: (transport: MsWebRtcTransport) => void;
}

export class MsWebRtcTransport
  extends EventEmitter<WebRtcTransportEvents>
  implements WebRtcTransport
{
  readonly kind = 'webrtc' as const;
  readonly id = randomUUID();
  readonly name: string;
  /** @internal Polled by the router. */
  readonly counters = new TransportCounters();
  readonly #options: MsWebRtcTransportOptions;
  readonly #log: Logger;
  #transport: types.WebRtcTransport | undefined;
  #router: types.Router | undefined;
  #negotiated: Negotiated | undefined;
  #producer: types.Producer | undefined;
  #data: DataChannel | undefined;
  #offered: readonly AudioCodec[] | undefined;
  #closed = false;
  /** Our DTLS role and the browser's ICE username fragment, from the answer (for ICE restarts). */
  #answered: { setup: 'active' | 'passive'; ufrag: string | undefined } | undefined;

  constructor(options: MsWebRtcTransportOptions) {
    super();
    this.name = options.name;
    this.#options = options;
    this.#log = options.logger.child({ transportId: this.id, transport: options.name });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** @internal */
  get negotiated(): Negotiated | undefined {
    return this.#negotiated;
  }

  /** @internal The producer of the browser's audio, once negotiated. */
  get producer(): types.Producer | undefined {
    return this.#producer;
  }

  /** @internal The worker's transport, once negotiated. */
  get worker(): types.WebRtcTransport | undefined {
    return this.#transport;
  }

  /** @internal The router the leg's transport is on, once negotiated. */
  get router(): types.Router | undefined {
    return this.#router;
  }

  async answer(offer: string, codec: AudioCodec, telephoneEvent?: AudioCodec): Promise<string> {
    this.#notClosed();
    if (this.#negotiated) throw new ParleyError('internal', 'transport is negotiated already');
    const browser = readBrowserSdp(offer);
    if (!browser.audio) throw new ParleyError('offer_required', 'the offer has no audio');
    const negotiated = answerOffer(browser.audio, codec, telephoneEvent);
    const { codec: own, telephoneEvent: browserEvent } = negotiated;
    const prepared = await this.#open([own, ...(browserEvent ? [browserEvent] : [])]);
    // We answer passive (RFC 5763 §5: the offerer's actpass lets us choose): the
    // browser is the DTLS client and opens its channel on stream 0.
    const ourSetup = browser.setup === 'passive' ? 'active' : 'passive';
    this.#negotiated = negotiated;
    // Independent requests to the worker, in parallel: this is the visitor's
    // INVITE → 200 (each round trip waits behind every other call's work).
    await Promise.all([
      connectDtls(this.#worker(), browser, ourSetup),
      this.#produce(browser, negotiated),
      browser.data && ourSetup === 'passive'
        ? prepared
          ? this.#adoptDataChannel(prepared)
          : this.#openDataChannel(0)
        : undefined,
    ]);
    this.#notClosed();
    this.#answered = { setup: ourSetup, ufrag: iceUfrag(offer) };
    return answerSdp({
      offer: browser,
      local: this.#local(),
      codec: own,
      browserTelephoneEvent: browserEvent,
      setup: ourSetup,
      sessionId: String(Date.now()),
    });
  }

  /**
   * The browser's re-INVITE after its network changed: new ICE credentials in
   * its offer restart ICE on the worker's transport (new local ufrag and
   * password, RFC 8445 §9); the DTLS session, the codec and the producer stay.
   */
  async renegotiate(offer: string): Promise<string> {
    this.#notClosed();
    const negotiated = this.#negotiated;
    const answered = this.#answered;
    if (!negotiated || !answered)
      throw new ParleyError('internal', 'renegotiate() before answer()');
    const browser = readBrowserSdp(offer);
    if (!browser.audio) throw new ParleyError('offer_required', 'the offer has no audio');
    const ufrag = iceUfrag(offer);
    if (ufrag !== answered.ufrag) {
      await this.#worker().restartIce();
      answered.ufrag = ufrag;
    }
    this.#notClosed();
    return answerSdp({
      offer: browser,
      local: this.#local(),
      codec: negotiated.codec,
      browserTelephoneEvent: negotiated.telephoneEvent,
      setup: answered.setup,
      sessionId: String(Date.now()),
    });
  }

  async offer(codecs: readonly AudioCodec[]): Promise<string> {
    this.#notClosed();
    if (this.#offered || this.#negotiated) {
      throw new ParleyError('internal', 'transport is negotiated already');
    }
    const routable = codecs.filter(isRoutable);
    if (routable.length === 0) throw new ParleyError('offer_required', 'no codec to offer');
    this.#offered = routable;
    await this.#open(routable);
    return offerSdp({
      local: this.#local(),
      codecs: routable,
      sessionId: String(Date.now()),
    });
  }

  async accept(answer: string): Promise<AudioCodec> {
    this.#notClosed();
    const offered = this.#offered;
    if (!offered) throw new ParleyError('internal', 'accept() before offer()');
    const browser = readBrowserSdp(answer);
    const negotiated = acceptAnswer(browser.audio, offered);
    // We offered actpass: the browser chose; it is the client when it answered active.
    const ourSetup = browser.setup === 'active' ? 'passive' : 'active';
    this.#negotiated = negotiated;
    await Promise.all([
      connectDtls(this.#worker(), browser, ourSetup),
      this.#produce(browser, negotiated),
    ]);
    return negotiated.codec;
  }

  sendMessage(text: string): boolean {
    return this.#data?.send(text) ?? false;
  }

  async sendDtmf(digit: string, durationMs: number): Promise<boolean> {
    const dtmf = this.#options.dtmf();
    if (this.#closed || !dtmf) return false;
    return dtmf.send(digit, durationMs);
  }

  stats(): TransportStats {
    const c = this.counters;
    return {
      packetsIn: c.packetsIn,
      packetsOut: c.packetsOut,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      lastRtpAt: c.lastRtpAt,
      latchedTo: undefined,
    };
  }

  /** @internal A consumer on this leg of `producer` (the other leg's audio, on this leg's router). */
  consume(producer: types.Producer): Promise<types.Consumer> {
    const negotiated = this.#negotiated;
    const transport = this.#transport;
    if (!negotiated || !transport) {
      throw new ParleyError('internal', 'the browser leg is not negotiated');
    }
    return transport.consume({
      producerId: producer.id,
      rtpCapabilities: legCapabilities(negotiated.codec, negotiated.telephoneEvent),
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#data?.close();
    this.#transport?.close();
    this.#options.onClose(this);
    this.#log.debug('WebRTC transport closed');
  }

  /** @internal The data channel of a transport made ahead (stream 0: see data-channel.ts). */
  async prepareDataChannel(
    transport: types.WebRtcTransport,
    router: types.Router,
  ): Promise<DataChannel> {
    const channel = this.#dataChannel(transport);
    await channel.start(await this.#options.direct(router), 0);
    return channel;
  }

  /** Makes the worker's transport for these codecs and follows its ICE and DTLS states; its prepared data channel, if any. */
  async #open(codecs: readonly AudioCodec[]): Promise<DataChannel | undefined> {
    const { router, transport, data } = await this.#options.create(codecs);
    if (this.#closed) {
      transport.close();
      throw new ParleyError('internal', 'transport is closed');
    }
    this.#router = router;
    this.#transport = transport;
    followStates(transport, this.#log, (state) => this.#state(state));
    return data;
  }

  #worker(): types.WebRtcTransport {
    if (!this.#transport) throw new ParleyError('internal', 'the browser leg is not negotiated');
    return this.#transport;
  }

  async #produce(browser: BrowserDescription, negotiated: Negotiated): Promise<void> {
    const producer = await produceBrowserAudio(this.#worker(), browser, negotiated);
    if (producer) this.#producer = producer;
  }

  #adoptDataChannel(channel: DataChannel): Promise<void> {
    this.#data = channel;
    return Promise.resolve();
  }

  #dataChannel(transport: types.WebRtcTransport): DataChannel {
    return new DataChannel(
      transport,
      {
        message: (text) => this.#emit('message', text),
        open: () => this.#emit('dataChannelOpen'),
      },
      this.#log,
    );
  }

  async #openDataChannel(streamId: number): Promise<void> {
    const channel = this.#dataChannel(this.#worker());
    this.#data = channel;
    await channel.start(await this.#options.direct(this.#router!), streamId);
  }

  #local() {
    return localParameters(this.#worker());
  }

  #notClosed(): void {
    if (this.#closed) throw new ParleyError('internal', 'transport is closed');
  }

  #state(state: LegState): void {
    if (this.#closed && state !== 'closed') return;
    this.#emit('state', state);
  }

  /** A throwing listener is logged, never allowed into mediasoup's event loop. */
  #emit<K extends keyof WebRtcTransportEvents>(event: K, ...args: WebRtcTransportEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: WebRtcTransportEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.#log.error({ err: error, event }, 'WebRTC transport listener threw');
    }
  }
}
