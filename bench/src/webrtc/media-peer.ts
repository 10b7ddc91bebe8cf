/**
 * The WebRTC end of a benchmark visitor, whichever server it calls (Parley
 * over SIP-over-WebSocket, Janus over its own protocol): it makes the offer
 * (audio and the `parley` data channel, as the widget does), takes the
 * answer, sends audio and counts what comes back.
 *
 * - {@link NdcMediaPeer}: libdatachannel (node-datachannel): ICE, DTLS-SRTP and
 *   SCTP in C++, no audio engine; it sends a pre-encoded PCMU tone, one packet
 *   per 20 ms tick of the caller's timer. Light: the concurrency steps use it.
 * - {@link WrtcMediaPeer}: libwebrtc (@roamhq/wrtc), with its audio pipeline
 *   (an RTCAudioSource fed by the caller): what the earlier runs used, about
 *   1 % of a core per call, so the load generator saturates near 75 calls.
 */
import { NdcPeer } from '@parley/testkit/ndc-peer';
import type {
  Wrtc,
  WrtcAudioSource,
  WrtcDataChannel,
  WrtcPeerConnection,
  WrtcTrack,
} from './wrtc.js';

export interface PeerCounters {
  readonly inboundPackets: number;
  readonly inboundBytes: number;
  readonly outboundPackets: number;
  readonly packetsLost: number;
  readonly jitterMs: number;
  readonly codec: string | undefined;
  readonly iceState: string;
  readonly dataChannelOpen: boolean;
  /** performance.now() of ICE connected, DTLS connected, the first audio packet received. */
  readonly iceAt: number | undefined;
  readonly dtlsAt: number | undefined;
  readonly firstAudioAt: number | undefined;
}

export interface MediaPeer {
  /** The complete offer (candidates gathered, no trickle). */
  offer(): Promise<string>;
  apply(answer: string): Promise<void>;
  counters(): Promise<PeerCounters>;
  close(): void;
}

/** A 1 kHz tone in PCMU: 8 samples a period at 8 kHz, so every 20 ms packet is the same 160 bytes. */
const TONE_PCMU = (() => {
  const linearToUlaw = (sample: number): number => {
    // ITU-T G.711 μ-law encoder (bias 0x84, clip 32635).
    const sign = sample < 0 ? 0x80 : 0;
    const magnitude = Math.min(32635, Math.abs(sample)) + 0x84;
    let exponent = 7;
    for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
    const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
    return ~(sign | (exponent << 4) | mantissa) & 0xff;
  };
  const out = Buffer.alloc(160);
  for (let i = 0; i < 160; i += 1)
    out[i] = linearToUlaw(Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * i) / 8)));
  return out;
})();

/** libdatachannel, offering Opus, PCMU and telephone-event as a browser does (the agent picks). */
export class NdcMediaPeer implements MediaPeer {
  readonly #peer: NdcPeer;
  #iceAt: number | undefined;
  #dtlsAt: number | undefined;
  #codec: number | undefined;

  /** `dataChannel` false for Janus: its SIP plugin refuses an offer with one (448). */
  constructor(options: { readonly dataChannel?: boolean; readonly gatherTimeoutMs?: number } = {}) {
    this.#peer = new NdcPeer({
      dataChannel: options.dataChannel ?? true,
      codecs: [
        { payloadType: 111, rtpmap: 'opus/48000/2' },
        { payloadType: 0, rtpmap: 'PCMU/8000' },
        { payloadType: 126, rtpmap: 'telephone-event/8000' },
      ],
      gatherTimeoutMs: options.gatherTimeoutMs ?? 2000,
      keep: 0,
    });
    this.#peer.pc.onIceStateChange((state) => {
      if (state === 'connected' || state === 'completed') this.#iceAt ??= performance.now();
    });
    this.#peer.pc.onStateChange((state) => {
      if (state === 'connected') this.#dtlsAt ??= performance.now();
    });
  }

  offer(): Promise<string> {
    return this.#peer.offer();
  }

  apply(answer: string): Promise<void> {
    // The codec we will send: the answer's first audio format.
    this.#codec = Number(/^m=audio \d+ \S+ (\d+)/m.exec(answer)?.[1] ?? 0);
    this.#peer.apply(answer);
    return Promise.resolve();
  }

  /** One 20 ms packet of the tone (PCMU), once the media path is up. */
  tick(): void {
    if (this.#codec === 0) this.#peer.send(0, TONE_PCMU);
  }

  counters(): Promise<PeerCounters> {
    const p = this.#peer;
    return Promise.resolve({
      inboundPackets: p.packetsReceived,
      inboundBytes: p.bytesReceived,
      outboundPackets: p.packetsSent,
      packetsLost: 0,
      jitterMs: 0,
      codec:
        this.#codec === 0
          ? 'audio/PCMU'
          : this.#codec === undefined
            ? undefined
            : `pt ${this.#codec}`,
      iceState: p.pc.iceState(),
      dataChannelOpen: p.channelOpen,
      iceAt: this.#iceAt,
      dtlsAt: this.#dtlsAt,
      firstAudioAt: p.firstPacketAt,
    });
  }

  close(): void {
    this.#peer.close();
  }
}

/** libwebrtc with its audio pipeline; the caller feeds `source` (a tone). */
export class WrtcMediaPeer implements MediaPeer {
  readonly #pc: WrtcPeerConnection;
  readonly #channel: WrtcDataChannel;
  readonly #track: WrtcTrack;
  readonly #gatherTimeoutMs: number;
  #dataChannelOpen = false;
  #iceAt: number | undefined;
  #dtlsAt: number | undefined;

  constructor(wrtc: Wrtc, source: WrtcAudioSource, gatherTimeoutMs = 2000) {
    this.#gatherTimeoutMs = gatherTimeoutMs;
    const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
    this.#pc = pc;
    this.#track = source.createTrack();
    pc.addTrack(this.#track, new wrtc.MediaStream([this.#track]));
    this.#channel = pc.createDataChannel('parley');
    this.#channel.onopen = () => {
      this.#dataChannelOpen = true;
    };
    pc.oniceconnectionstatechange = () => {
      if (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed')
        this.#iceAt ??= performance.now();
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') this.#dtlsAt ??= performance.now();
    };
  }

  async offer(): Promise<string> {
    const pc = this.#pc;
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const timer = setTimeout(resolve, this.#gatherTimeoutMs);
      pc.onicegatheringstatechange = () => {
        if (pc.iceGatheringState !== 'complete') return;
        clearTimeout(timer);
        resolve();
      };
    });
    const offer = pc.localDescription?.sdp;
    if (!offer) throw new Error('no local description');
    return offer;
  }

  apply(answer: string): Promise<void> {
    return this.#pc.setRemoteDescription({ type: 'answer', sdp: answer });
  }

  async counters(): Promise<PeerCounters> {
    const out = {
      inboundPackets: 0,
      inboundBytes: 0,
      outboundPackets: 0,
      packetsLost: 0,
      jitterMs: 0,
      codec: undefined as string | undefined,
      iceState: this.#pc.iceConnectionState,
      dataChannelOpen: this.#dataChannelOpen,
      iceAt: this.#iceAt,
      dtlsAt: this.#dtlsAt,
      firstAudioAt: undefined,
    };
    const codecs = new Map<string, string>();
    let codecId: string | undefined;
    (await this.#pc.getStats()).forEach((r) => {
      if (r.type === 'codec' && r.mimeType) codecs.set(r.id, r.mimeType);
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        out.inboundPackets = r.packetsReceived ?? 0;
        out.inboundBytes = r.bytesReceived ?? 0;
        out.packetsLost = r.packetsLost ?? 0;
        out.jitterMs = (r.jitter ?? 0) * 1000;
        codecId = r.codecId;
      }
      if (r.type === 'outbound-rtp' && r.kind === 'audio') out.outboundPackets = r.packetsSent ?? 0;
    });
    out.codec = codecId ? codecs.get(codecId) : undefined;
    return out;
  }

  close(): void {
    try {
      this.#channel.close();
      this.#track.stop();
      this.#pc.close();
    } catch {
      // Already closed.
    }
  }
}
