/**
 * A browser's end of a call: werift terminates ICE (lite), DTLS-SRTP and the
 * SCTP data channel; audio is bridged to the piped plain transport (the agent
 * leg) with no transcoding, because the answer offers the browser exactly the
 * codec the agent chose.
 *
 * This file negotiates (answer, ICE restart, offer), owns the leased ICE port
 * and the data channel, and closes; the peer connection's set-up is in
 * `webrtc-peer.ts`, the audio path (RTP both ways, the media endpoint, DTMF,
 * the counters) in `webrtc-audio.ts`. The werift trap handled here (see
 * ../shared/recipes/werift-notes.md): `ontrack` is set before
 * setRemoteDescription, since with a=ssrc in the offer the track fires during it.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { RTCDataChannel, RTCPeerConnection } from 'werift';
import { ParleyError } from '@parley/shared/errors';
import type {
  AudioCodec,
  MediaEndpointOptions,
  TransportStats,
  WebRtcTransport,
  WebRtcTransportEvents,
} from './engine.js';
import type { PacketSink, TransportCounters } from './rtp-channel.js';
import type { RelayEndpoint } from './rtp-endpoint.js';
import { WebRtcAudio } from './webrtc-audio.js';
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
  readonly counters: TransportCounters;
  /** @internal Audio from the piped transport, for this browser. */
  readonly input: PacketSink;
  readonly #options: WeriftTransportOptions;
  readonly #log: Logger;
  readonly #audio: WebRtcAudio;
  #pc: RTCPeerConnection | undefined;
  #channel: RTCDataChannel | undefined;
  #closed = false;
  #port: WebRtcPortLease | undefined;

  constructor(options: WeriftTransportOptions) {
    super();
    this.name = options.name;
    this.#options = options;
    this.#log = options.logger.child({ transportId: this.id, transport: options.name });
    this.#audio = new WebRtcAudio({ transportId: this.id, logger: this.#log, now: options.now });
    this.counters = this.#audio.counters;
    this.input = this.#audio.input;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** @internal Where this browser's audio goes (the piped transport's input). */
  get forward(): PacketSink | undefined {
    return this.#audio.forward;
  }

  set forward(sink: PacketSink | undefined) {
    this.#audio.forward = sink;
  }

  async answer(offer: string, codec: AudioCodec, telephoneEvent?: AudioCodec): Promise<string> {
    this.#audio.useCodec(codec, telephoneEvent);
    // The audio codec first (werift sends with the first); telephone-event beside it.
    const pc = this.#createPc(
      telephoneEvent ? [codec, telephoneEvent] : [codec],
      await this.#leasePort(),
    );
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const transceiver = answeredAudio(pc);
      this.#audio.sendWith(
        transceiver.sender,
        telephoneEvent ? telephoneEventType(transceiver, telephoneEvent.clockRate) : undefined,
      );
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
      this.#audio.sendWith(transceiver.sender);
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
    this.#audio.useCodec(codec);
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
      track.onReceiveRtp.subscribe((rtp) => this.#audio.fromBrowser(rtp));
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

  sendDtmf(digit: string, durationMs: number): Promise<boolean> {
    return this.#audio.sendDtmf(digit, durationMs);
  }

  stats(): TransportStats {
    return this.#audio.stats();
  }

  /** @internal The browser's media endpoint (called by the router, which checked ownership). */
  openEndpoint(options: MediaEndpointOptions): RelayEndpoint {
    return this.#audio.openEndpoint(options);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#audio.close();
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
}
