/**
 * A browser leg's audio in the relay engine, between werift and the piped
 * transport: the browser's RTP in the negotiated codec goes on to the agent
 * (restamped into one continuous stream), the agent's comes to the browser
 * through werift's sender, a media endpoint hears and speaks on the leg, and
 * DTMF toward the agent is made here. Owned by its `WeriftTransport`, which
 * sets the codec and sender as negotiation finds them.
 *
 * werift's `sendRtp` forces the primary codec's payload type (see
 * ../shared/recipes/werift-notes.md), so telephone-event toward the browser
 * goes to the DTLS transport directly.
 * @internal
 */
import type { Logger } from 'pino';
import { RtpHeader, RtpPacket, type RTCDtlsTransport, type RTCRtpSender } from 'werift';
import { ParleyError } from '@parley/shared/errors';
import type { AudioCodec, MediaEndpointOptions, TransportStats } from './engine.js';
import { TransportCounters, type PacketSink } from './rtp-channel.js';
import { RelayEndpoint } from './rtp-endpoint.js';
import { OutboundStream } from './rtp-stream.js';
import { RtpRewriter, dtmfEvent, dtmfPayload } from './rtp-rewriter.js';

export interface WebRtcAudioOptions {
  readonly transportId: string;
  readonly logger: Logger;
  readonly now: () => number;
}

export class WebRtcAudio {
  /** Shared with the router's inactivity check (through the transport). */
  readonly counters = new TransportCounters();
  /** Where this browser's audio goes (the piped transport's input). */
  forward: PacketSink | undefined;
  /** Audio from the piped transport, for this browser. */
  readonly input: PacketSink = { deliver: (packet) => this.#toBrowser(packet) };
  readonly #options: WebRtcAudioOptions;
  readonly #forwardStream = new RtpRewriter();
  #sender: RTCRtpSender | undefined;
  #codec: AudioCodec | undefined;
  #telephoneEvent: AudioCodec | undefined;
  /** The payload type the browser negotiated for telephone-event at the agent's clock rate. */
  #browserEventType: number | undefined;
  #closed = false;
  #endpoint: RelayEndpoint | undefined;
  /** Created with the first media endpoint, kept after it (the browser's stream stays continuous). */
  #stream: OutboundStream | undefined;

  constructor(options: WebRtcAudioOptions) {
    this.#options = options;
  }

  /** The codec both legs use, and telephone-event beside it when the agent negotiated it. */
  useCodec(codec: AudioCodec, telephoneEvent?: AudioCodec): void {
    this.#codec = codec;
    this.#telephoneEvent = telephoneEvent;
  }

  /** werift's sender toward the browser, and the browser's payload type for telephone-event. */
  sendWith(sender: RTCRtpSender, browserEventType?: number): void {
    this.#sender = sender;
    this.#browserEventType = browserEventType;
  }

  /** RTP werift received from the browser. */
  fromBrowser(rtp: RtpPacket): void {
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

  /** RFC 4733 events toward the piped transport (see WebRtcTransport.sendDtmf). */
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

  /** The browser's media endpoint (the router checked ownership). */
  openEndpoint(options: MediaEndpointOptions): RelayEndpoint {
    if (this.#closed) throw new ParleyError('internal', 'media transport is closed');
    if (this.#endpoint) {
      throw new ParleyError(
        'internal',
        `transport ${this.#options.transportId} has a media endpoint open already`,
      );
    }
    const stream = (this.#stream ??= new OutboundStream(options.codec.clockRate));
    const endpoint = new RelayEndpoint({
      ...options,
      transportId: this.#options.transportId,
      stream,
      now: this.#options.now,
      logger: this.#options.logger,
      transmit: (packet) => this.#sendToBrowser(packet),
      onClose: () => (this.#endpoint = undefined),
    });
    this.#endpoint = endpoint;
    return endpoint;
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

  /** Closes the media endpoint and unlinks the piped transport; nothing is sent after. */
  close(): void {
    this.#closed = true;
    this.#endpoint?.close();
    this.forward = undefined;
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
