/**
 * A browser's end of a call: werift terminates ICE (lite), DTLS-SRTP and the
 * SCTP data channel; audio is bridged to the piped plain transport (the agent
 * leg) with no transcoding, because the answer offers the browser exactly the
 * codec the agent chose.
 *
 * The peer connection is set up in `webrtc-peer.ts` (ICE-lite, the bound
 * interface, the ICE restart). werift traps this works around (see
 * ../shared/recipes/werift-notes.md): `ontrack` set before
 * setRemoteDescription; `sendRtp` forces the primary codec's payload type, so
 * telephone-event toward the browser goes to the DTLS transport directly, and
 * DTMF toward the agent is made here.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  RtpHeader,
  RtpPacket,
  type RTCDataChannel,
  type RTCDtlsTransport,
  type RTCPeerConnection,
  type RTCRtpSender,
} from 'werift';
import { ParleyError } from '@parley/shared/errors';
import type {
  AudioCodec,
  MediaEndpointOptions,
  TransportStats,
  WebRtcTransport,
  WebRtcTransportEvents,
} from './engine.js';
import { TransportCounters, type PacketSink } from './rtp-channel.js';
import { RelayEndpoint } from './rtp-endpoint.js';
import { OutboundStream } from './rtp-stream.js';
import { RtpRewriter, dtmfEvent, dtmfPayload } from './rtp-rewriter.js';
import {
  answeredAudio,
  createPeerConnection,
  localSdp,
  negotiatedCodec,
  restartIce,
  telephoneEventType,
} from './webrtc-peer.js';
import type { WebRtcPortLease, WebRtcPortPool } from './webrtc-ports.js';

export interface WeriftTransportOptions {
  readonly name: string;
  /** Address ICE binds to and announces (host candidate). */
  readonly address: string;
  /** An extra host candidate (a public address in front of `address`). */
  readonly announcedAddress?: string | undefined;
  /** Where the transport's one ICE port comes from. */
  readonly ports: WebRtcPortPool;
  readonly dataChannelLabel: string;
  readonly logger: Logger;
  readonly now: () => number;
  readonly onClose: (transport: WeriftTransport) => void;
}

export class WeriftTransport
  extends EventEmitter<WebRtcTransportEvents>
  implements WebRtcTransport
{
  readonly kind = 'webrtc' as const;
  readonly id = randomUUID();
  readonly name: string;
  /** @internal Shared with the router's inactivity check. */
  readonly counters = new TransportCounters();
  /** @internal Where this browser's audio goes (the piped transport's input). */
  forward: PacketSink | undefined;
  /** @internal Audio from the piped transport, for this browser. */
  readonly input: PacketSink = { deliver: (packet) => this.#toBrowser(packet) };
  readonly #options: WeriftTransportOptions;
  readonly #log: Logger;
  readonly #forwardStream = new RtpRewriter();
  #pc: RTCPeerConnection | undefined;
  #sender: RTCRtpSender | undefined;
  #channel: RTCDataChannel | undefined;
  #codec: AudioCodec | undefined;
  #telephoneEvent: AudioCodec | undefined;
  /** The payload type the browser negotiated for telephone-event at the agent's clock rate. */
  #browserEventType: number | undefined;
  #closed = false;
  #port: WebRtcPortLease | undefined;
  #endpoint: RelayEndpoint | undefined;
  /** Created with the first media endpoint, kept after it (the browser's stream stays continuous). */
  #stream: OutboundStream | undefined;

  constructor(options: WeriftTransportOptions) {
    super();
    this.name = options.name;
    this.#options = options;
    this.#log = options.logger.child({ transportId: this.id, transport: options.name });
  }

  get closed(): boolean {
    return this.#closed;
  }

  async answer(offer: string, codec: AudioCodec, telephoneEvent?: AudioCodec): Promise<string> {
    this.#codec = codec;
    this.#telephoneEvent = telephoneEvent;
    // The audio codec first (werift sends with the first); telephone-event beside it.
    const pc = this.#createPc(
      telephoneEvent ? [codec, telephoneEvent] : [codec],
      await this.#leasePort(),
    );
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const transceiver = answeredAudio(pc);
      this.#sender = transceiver.sender;
      this.#browserEventType = telephoneEvent
        ? telephoneEventType(transceiver, telephoneEvent.clockRate)
        : undefined;
      await pc.setLocalDescription(await pc.createAnswer());
      return await localSdp(pc);
    } catch (error) {
      throw new ParleyError('offer_required', (error as Error).message, { cause: error });
    }
  }

  async renegotiate(offer: string): Promise<string> {
    const pc = this.#pc;
    if (!pc || this.#closed) throw new ParleyError('internal', 'renegotiate() before answer()');
    try {
      // New ICE credentials in the offer restart ICE (werift sees them change).
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const transceiver = answeredAudio(pc);
      await pc.setLocalDescription(await pc.createAnswer());
      // werift does not start the new generation's checks itself (see restartIce).
      restartIce(transceiver, this.#log);
      return await localSdp(pc);
    } catch (error) {
      throw new ParleyError('offer_required', (error as Error).message, { cause: error });
    }
  }

  async offer(codecs: readonly AudioCodec[]): Promise<string> {
    const pc = this.#createPc(codecs, await this.#leasePort());
    try {
      const transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
      this.#sender = transceiver.sender;
      await pc.setLocalDescription(await pc.createOffer());
      return await localSdp(pc);
    } catch (error) {
      throw new ParleyError('internal', `WebRTC offer failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async accept(answer: string): Promise<AudioCodec> {
    const pc = this.#pc;
    if (!pc) throw new ParleyError('internal', 'accept() before offer()');
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    } catch (error) {
      throw new ParleyError('offer_required', (error as Error).message, { cause: error });
    }
    const codec = negotiatedCodec(pc);
    if (!codec) throw new ParleyError('offer_required', 'no codec in common');
    this.#codec = codec;
    return codec;
  }

  /** The transport's ICE port, given back when it closes. */
  async #leasePort(): Promise<number> {
    if (this.#closed) throw new ParleyError('internal', 'transport is closed');
    if (this.#port) throw new ParleyError('internal', 'transport is negotiated already');
    const lease = await this.#options.ports.lease();
    if (this.#closed) {
      lease.release();
      throw new ParleyError('internal', 'transport is closed');
    }
    this.#port = lease;
    return lease.port;
  }

  /** Right after {@link #leasePort}, which refused a closed or negotiated transport. */
  #createPc(codecs: readonly AudioCodec[], port: number): RTCPeerConnection {
    const pc = createPeerConnection({
      address: this.#options.address,
      announcedAddress: this.#options.announcedAddress,
      port,
      codecs,
    });
    this.#pc = pc;
    // Before setRemoteDescription: with a=ssrc in the offer the track fires during it.
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => this.#fromBrowser(rtp));
    });
    pc.onDataChannel.subscribe((channel) => this.#adoptChannel(channel));
    pc.connectionStateChange.subscribe((state) => {
      this.#log.debug({ state }, 'WebRTC connection state');
      this.emit('state', state);
    });
    return pc;
  }

  sendMessage(text: string): boolean {
    const channel = this.#channel;
    if (!channel || channel.readyState !== 'open') return false;
    channel.send(text);
    return true;
  }

  async sendDtmf(digit: string, durationMs: number): Promise<boolean> {
    const event = dtmfEvent(digit);
    const te = this.#telephoneEvent;
    const sink = this.forward;
    if (event === undefined || !te || !sink || this.#closed) return false;
    const stream = this.#forwardStream;
    const start = stream.timestampAt(this.#options.now(), te.clockRate);
    const step = Math.round((te.clockRate * 50) / 1000);
    const total = Math.max(step, Math.round((te.clockRate * durationMs) / 1000));
    // RFC 4733 §2.5.1: one packet per 50 ms with the growing duration, then the end three times.
    for (let duration = step, first = true; duration < total; duration += step, first = false) {
      sink.deliver(stream.own(te.payloadType, first, start, dtmfPayload(event, false, duration)));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (let i = 0; i < 3; i += 1)
      sink.deliver(stream.own(te.payloadType, false, start, dtmfPayload(event, true, total)));
    return true;
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

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#endpoint?.close();
    this.forward = undefined;
    const pc = this.#pc;
    const port = this.#port;
    if (pc) {
      pc.close()
        .catch((error: unknown) => this.#log.debug({ err: error }, 'peer connection close failed'))
        // Given back once werift's socket is closed, so the next lease can bind it.
        .finally(() => port?.release());
    } else {
      port?.release();
    }
    this.#options.onClose(this);
    this.#log.debug(
      { packetsIn: this.counters.packetsIn, packetsOut: this.counters.packetsOut },
      'WebRTC transport closed',
    );
  }

  #adoptChannel(channel: RTCDataChannel): void {
    if (channel.label !== this.#options.dataChannelLabel || this.#channel) {
      channel.close();
      return;
    }
    this.#channel = channel;
    const opened = () => this.emit('dataChannelOpen');
    if (channel.readyState === 'open') opened();
    else channel.stateChanged.subscribe((state) => state === 'open' && opened());
    channel.onMessage.subscribe((data) => {
      // Text only: binary frames are not part of the protocol.
      if (typeof data === 'string') this.emit('message', data);
    });
  }

  #fromBrowser(rtp: RtpPacket): void {
    const c = this.counters;
    const now = this.#options.now();
    c.packetsIn++;
    c.bytesIn += rtp.payload.length + 12;
    c.rtpPacketsIn++;
    c.lastRtpAt = now;
    c.silent = false;
    const h = rtp.header;
    const endpoint = this.#endpoint;
    endpoint?.receivedView({
      payloadType: h.payloadType,
      marker: h.marker,
      sequenceNumber: h.sequenceNumber,
      timestamp: h.timestamp,
      ssrc: h.ssrc,
      payload: rtp.payload,
    });
    const codec = this.#codec;
    const sink = this.forward;
    if (!codec || !sink) {
      if (!endpoint) c.unroutedPackets++;
      return;
    }
    // Only the negotiated codec goes to the agent (telephone-event from the browser is not expected).
    if (h.payloadType !== codec.payloadType) return;
    if (
      !sink.deliver(
        this.#forwardStream.media(
          codec.payloadType,
          h.marker,
          h.ssrc,
          h.timestamp,
          rtp.payload,
          now,
        ),
      )
    ) {
      c.unroutedPackets++;
    }
  }

  /** @internal The browser's media endpoint (called by the router, which checked ownership). */
  openEndpoint(options: MediaEndpointOptions): RelayEndpoint {
    if (this.#closed) throw new ParleyError('internal', 'media transport is closed');
    if (this.#endpoint) {
      throw new ParleyError('internal', `transport ${this.id} has a media endpoint open already`);
    }
    const stream = (this.#stream ??= new OutboundStream(options.codec.clockRate));
    const endpoint = new RelayEndpoint({
      ...options,
      transportId: this.id,
      stream,
      now: this.#options.now,
      logger: this.#log,
      transmit: (packet) => this.#sendToBrowser(packet),
      onClose: () => (this.#endpoint = undefined),
    });
    this.#endpoint = endpoint;
    return endpoint;
  }

  /** Audio relayed from the piped transport: through the media stream once an application is involved. */
  #toBrowser(packet: Buffer): boolean {
    const stream = this.#stream;
    if (stream && !this.#closed && !stream.relayed(packet, this.#options.now())) return true;
    return this.#sendToBrowser(packet);
  }

  #sendToBrowser(packet: Buffer): boolean {
    const sender = this.#sender;
    const codec = this.#codec;
    if (!sender || !codec || this.#closed || packet.length < 12) return false;
    // Both legs use the same payload type numbers (the gateway offers each side
    // the other's): the audio codec, and telephone-event when it was negotiated.
    const pt = packet[1]! & 0x7f;
    if (pt === codec.payloadType) {
      this.counters.packetsOut++;
      this.counters.bytesOut += packet.length;
      sender.sendRtp(packet).catch(() => undefined);
    } else if (pt === this.#telephoneEvent?.payloadType) {
      this.#sendEvent(sender, packet);
    } else {
      return true;
    }
    this.#endpoint?.sent(packet);
    return true;
  }

  /**
   * RFC 4733 events from the agent, in the same stream as its audio. sendRtp
   * would relabel them with the audio codec's payload type, so they go straight
   * to the DTLS transport with the sender's SSRC and the same sequence and
   * timestamp offsets sendRtp applies to the audio around them.
   */
  #sendEvent(sender: RTCRtpSender, packet: Buffer): void {
    const internals = sender as unknown as {
      seqOffset?: number;
      timestampOffset?: number;
      dtlsTransport?: RTCDtlsTransport;
    };
    const transport = internals.dtlsTransport;
    if (!transport || transport.state !== 'connected') return;
    const rtp = RtpPacket.deSerialize(packet);
    const header = new RtpHeader({
      // The browser's number for telephone-event at this clock rate (an agent may use another).
      payloadType: this.#browserEventType ?? rtp.header.payloadType,
      marker: rtp.header.marker,
      sequenceNumber: (rtp.header.sequenceNumber + (internals.seqOffset ?? 0)) & 0xffff,
      timestamp: (rtp.header.timestamp + (internals.timestampOffset ?? 0)) >>> 0,
      ssrc: sender.ssrc,
    });
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.length;
    transport.sendRtp(rtp.payload, header).catch(() => undefined);
  }
}
