/**
 * @roamhq/wrtc (libwebrtc for Node: Chrome's WebRTC stack without the browser)
 * as a peer for tests and benchmarks, with the few types they use.
 *
 * Its own `types/index.d.ts` re-exports the DOM's RTCPeerConnection & co.,
 * which do not exist under this workspace's `lib: ES2023` (no DOM): imported
 * normally, everything is an error type. So it is loaded with `require` (it is
 * CommonJS) and typed here, narrowly. Not re-exported from the testkit's index
 * (it loads a native library): import `@parley/testkit/wrtc`.
 */
import { createRequire } from 'node:module';

export interface WrtcSessionDescription {
  readonly type: string;
  readonly sdp: string;
}

export interface WrtcStatsEntry {
  readonly type: string;
  readonly kind?: string;
  readonly id: string;
  readonly packetsReceived?: number;
  readonly packetsSent?: number;
  readonly bytesReceived?: number;
  readonly packetsLost?: number;
  readonly jitter?: number;
  readonly codecId?: string;
  readonly mimeType?: string;
  readonly state?: string;
  readonly nominated?: boolean;
  readonly currentRoundTripTime?: number;
}

export interface WrtcDataChannel {
  readonly label: string;
  readonly readyState: string;
  onopen: (() => void) | null;
  onclose: (() => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  send(data: string): void;
  close(): void;
}

export interface WrtcTrack {
  readonly kind: string;
  stop(): void;
}

export interface WrtcPeerConnection {
  readonly localDescription: WrtcSessionDescription | null;
  readonly iceGatheringState: string;
  readonly iceConnectionState: string;
  readonly connectionState: string;
  onicegatheringstatechange: (() => void) | null;
  oniceconnectionstatechange: (() => void) | null;
  onconnectionstatechange: (() => void) | null;
  ontrack: ((event: { readonly track: WrtcTrack }) => void) | null;
  ondatachannel: ((event: { readonly channel: WrtcDataChannel }) => void) | null;
  addTrack(track: WrtcTrack, stream: unknown): unknown;
  createDataChannel(label: string): WrtcDataChannel;
  createOffer(): Promise<WrtcSessionDescription>;
  createAnswer(): Promise<WrtcSessionDescription>;
  setLocalDescription(description: WrtcSessionDescription): Promise<void>;
  setRemoteDescription(description: WrtcSessionDescription): Promise<void>;
  getStats(): Promise<{ forEach(fn: (entry: WrtcStatsEntry) => void): void }>;
  close(): void;
}

export interface WrtcAudioData {
  readonly samples: Int16Array;
  readonly sampleRate: number;
  readonly bitsPerSample?: number;
  readonly channelCount?: number;
  readonly numberOfFrames?: number;
}

export interface WrtcAudioSource {
  createTrack(): WrtcTrack;
  onData(data: WrtcAudioData): void;
}

export interface WrtcAudioSink {
  ondata: ((data: WrtcAudioData) => void) | null;
  stop(): void;
}

export interface Wrtc {
  readonly RTCPeerConnection: new (config: {
    iceServers: readonly unknown[];
  }) => WrtcPeerConnection;
  readonly MediaStream: new (tracks: readonly WrtcTrack[]) => unknown;
  readonly nonstandard: {
    readonly RTCAudioSource: new () => WrtcAudioSource;
    readonly RTCAudioSink: new (track: WrtcTrack) => WrtcAudioSink;
  };
}

export function loadWrtc(): Wrtc {
  return createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;
}

/** Waits until the peer's candidates are gathered (or `timeoutMs`), as the widget does. */
export function gathered(pc: WrtcPeerConnection, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') {
      resolve();
      return;
    }
    const timer = setTimeout(resolve, timeoutMs);
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState !== 'complete') return;
      clearTimeout(timer);
      resolve();
    };
  });
}

/**
 * Feeds `source` a sine tone in 10 ms frames (what libwebrtc's audio source
 * takes) until the returned function is called.
 */
export function feedTone(
  source: WrtcAudioSource,
  options: {
    readonly frequency?: number;
    readonly sampleRate?: number;
    readonly amplitude?: number;
  } = {},
): () => void {
  const sampleRate = options.sampleRate ?? 8000;
  const frequency = options.frequency ?? 1000;
  const amplitude = options.amplitude ?? 8000;
  const frame = sampleRate / 100;
  let phase = 0;
  const timer = setInterval(() => {
    const samples = new Int16Array(frame);
    for (let i = 0; i < frame; i += 1) {
      samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * phase) / sampleRate));
      phase += 1;
    }
    source.onData({
      samples,
      sampleRate,
      bitsPerSample: 16,
      channelCount: 1,
      numberOfFrames: frame,
    });
  }, 10);
  return () => clearInterval(timer);
}
