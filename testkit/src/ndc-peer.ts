/**
 * A light WebRTC peer on libdatachannel (`node-datachannel`, a prebuilt native
 * module): full ICE, DTLS-SRTP and SCTP in C++, but no audio engine, so the
 * test or benchmark sends and reads RTP packets itself. That makes it cheap
 * (hundreds of calls from one core, where @roamhq/wrtc's audio pipeline runs
 * out near 75) and lets a test see every packet's payload type.
 *
 * It offers what the widget offers: one audio m-line (the codecs given, with
 * an SSRC) and the `parley` data channel. Not re-exported from the testkit's
 * index (it loads a native library): import `@parley/testkit/ndc`.
 */
import { createRequire } from 'node:module';
import { randomInt } from 'node:crypto';
import type * as Ndc from 'node-datachannel';

type NodeDataChannel = typeof Ndc;

let loaded: NodeDataChannel | undefined;
/** node-datachannel, loaded once (CommonJS build: its ESM entry pulls in optional extras). */
export function loadNodeDataChannel(): NodeDataChannel {
  loaded ??= createRequire(import.meta.url)('node-datachannel') as NodeDataChannel;
  return loaded;
}

export interface NdcCodec {
  readonly payloadType: number;
  /** As in a=rtpmap: `PCMU/8000`, `opus/48000/2`, `telephone-event/8000`. */
  readonly rtpmap: string;
}

export interface NdcPeerOptions {
  readonly codecs: readonly NdcCodec[];
  /** Open the `parley` data channel (as the widget does). Default true. */
  readonly dataChannel?: boolean;
  /** How long to wait for ICE candidates before offering. Default 2000 ms. */
  readonly gatherTimeoutMs?: number;
  /** Keep the newest this many packets received in {@link NdcPeer.received}. Default 500; 0 keeps none (benchmarks). */
  readonly keep?: number;
}

export class NdcPeer {
  readonly pc: Ndc.PeerConnection;
  readonly track: Ndc.Track;
  readonly channel: Ndc.DataChannel | undefined;
  readonly ssrc = randomInt(1, 2 ** 31);
  readonly messages: string[] = [];
  /** RTP packets received (RTCP left out), newest last (at most `keep`). */
  readonly received: Buffer[] = [];
  readonly #keep: number;
  packetsReceived = 0;
  bytesReceived = 0;
  packetsSent = 0;
  /** performance.now() of the first RTP packet received. */
  firstPacketAt: number | undefined;
  state = 'new';
  channelOpen = false;
  #seq = randomInt(0, 0xffff);
  #timestamp = randomInt(0, 2 ** 31);
  readonly #gatherTimeoutMs: number;
  readonly #onRtp = new Set<(packet: Buffer) => void>();

  constructor(options: NdcPeerOptions) {
    const ndc = loadNodeDataChannel();
    this.#gatherTimeoutMs = options.gatherTimeoutMs ?? 2000;
    this.#keep = options.keep ?? 500;
    this.pc = new ndc.PeerConnection('parley-peer', { iceServers: [] });
    this.pc.onStateChange((state) => {
      this.state = state;
    });
    const audio = new ndc.Audio('0', 'SendRecv');
    for (const codec of options.codecs) audio.addAudioCodec(codec.payloadType, codec.rtpmap);
    audio.addSSRC(this.ssrc, 'parley-peer');
    this.track = this.pc.addTrack(audio);
    this.track.onMessage((message) => {
      // RTCP shares the track (rtcp-mux): payload types 200-204 with the marker bit set.
      const pt = message[1]! & 0x7f;
      if (pt >= 72 && pt <= 76) return;
      this.packetsReceived += 1;
      this.bytesReceived += message.length;
      this.firstPacketAt ??= performance.now();
      if (this.#keep > 0) {
        this.received.push(message);
        if (this.received.length > this.#keep) this.received.shift();
      }
      for (const listener of this.#onRtp) listener(message);
    });
    if (options.dataChannel !== false) {
      const channel = this.pc.createDataChannel('parley');
      channel.onOpen(() => {
        this.channelOpen = true;
      });
      channel.onMessage((message) => {
        if (typeof message === 'string') this.messages.push(message);
      });
      this.channel = channel;
    }
  }

  /** Calls `listener` with each RTP packet received; returns a function that stops it. */
  onRtp(listener: (packet: Buffer) => void): () => void {
    this.#onRtp.add(listener);
    return () => this.#onRtp.delete(listener);
  }

  /** The offer, once candidates are gathered. */
  offer(): Promise<string> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(this.pc.localDescription()?.sdp ?? '');
      };
      const timer = setTimeout(done, this.#gatherTimeoutMs);
      this.pc.onGatheringStateChange((state) => {
        if (state === 'complete') done();
      });
      this.pc.setLocalDescription('offer');
    });
  }

  apply(answer: string): void {
    this.pc.setRemoteDescription(answer, 'answer');
  }

  /** Sends one RTP packet of our stream (our SSRC, the next sequence number, `samples` later). */
  send(payloadType: number, payload: Buffer, samples = 160, marker = false): boolean {
    if (!this.track.isOpen()) return false;
    const packet = Buffer.alloc(12 + payload.length);
    packet[0] = 0x80;
    packet[1] = (marker ? 0x80 : 0) | payloadType;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + samples) >>> 0;
    packet.writeUInt16BE(this.#seq, 2);
    packet.writeUInt32BE(this.#timestamp, 4);
    packet.writeUInt32BE(this.ssrc, 8);
    payload.copy(packet, 12);
    try {
      const sent = this.track.sendMessageBinary(packet);
      if (sent) this.packetsSent += 1;
      return sent;
    } catch {
      return false; // closed meanwhile
    }
  }

  close(): void {
    try {
      this.channel?.close();
      this.track.close();
      this.pc.close();
    } catch {
      // already closed
    }
  }
}
