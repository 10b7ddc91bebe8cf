/**
 * @roamhq/wrtc (libwebrtc for Node) with the few types the load clients use.
 *
 * Its own `types/index.d.ts` re-exports the DOM's RTCPeerConnection & co.,
 * which do not exist under this workspace's `lib: ES2023` (no DOM): imported
 * normally, everything is an error type. So it is loaded with `require` (it is
 * CommonJS) and typed here, narrowly.
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
  readonly readyState: string;
  onopen: (() => void) | null;
  onclose: (() => void) | null;
  close(): void;
}

export interface WrtcTrack {
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
  addTrack(track: WrtcTrack, stream: unknown): unknown;
  createDataChannel(label: string): WrtcDataChannel;
  createOffer(): Promise<WrtcSessionDescription>;
  setLocalDescription(description: WrtcSessionDescription): Promise<void>;
  setRemoteDescription(description: WrtcSessionDescription): Promise<void>;
  getStats(): Promise<{ forEach(fn: (entry: WrtcStatsEntry) => void): void }>;
  close(): void;
}

export interface WrtcAudioSource {
  createTrack(): WrtcTrack;
  onData(data: {
    samples: Int16Array;
    sampleRate: number;
    bitsPerSample?: number;
    channelCount?: number;
    numberOfFrames?: number;
  }): void;
}

export interface Wrtc {
  readonly RTCPeerConnection: new (config: {
    iceServers: readonly unknown[];
  }) => WrtcPeerConnection;
  readonly MediaStream: new (tracks: readonly WrtcTrack[]) => unknown;
  readonly nonstandard: { readonly RTCAudioSource: new () => WrtcAudioSource };
}

export function loadWrtc(): Wrtc {
  return createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;
}
