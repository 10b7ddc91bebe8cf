/**
 * A browser leg hears the gateway's media applications: a libwebrtc peer
 * (@roamhq/wrtc, the WebRTC stack of Chromium for Node) is answered with PCMU
 * by each engine (werift in the relay engine; mediasoup's worker, the player's
 * packets reaching it through a DirectTransport), as the call layer answers a browser when a flow
 * needs media before an agent answers; a tone played on the leg's endpoint
 * arrives at the peer, decoded by libwebrtc, at its frequency.
 */
import { createRequire } from 'node:module';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { PortAllocator } from '@parley/testkit';
import { MediaApps, tone } from '../src/media/apps/index.js';
import { levelAt, until } from '../src/media/apps/test-leg.js';
import type { MediaEngine } from '../src/media/engine.js';
import { createMediasoupEngine } from '../src/media/mediasoup/engine.js';
import { createRelayEngine } from '../src/media/relay-engine.js';

/** The part of @roamhq/wrtc used here (its own types need the DOM library). */
interface Wrtc {
  readonly RTCPeerConnection: new (config: { iceServers: readonly unknown[] }) => {
    readonly localDescription: { readonly sdp: string } | null;
    readonly iceGatheringState: string;
    onicegatheringstatechange: (() => void) | null;
    ontrack: ((event: { readonly track: unknown }) => void) | null;
    addTransceiver(kind: 'audio', init: { direction: 'recvonly' }): unknown;
    createOffer(): Promise<{ type: string; sdp: string }>;
    setLocalDescription(d: { type: string; sdp: string }): Promise<void>;
    setRemoteDescription(d: { type: string; sdp: string }): Promise<void>;
    close(): void;
  };
  readonly nonstandard: {
    readonly RTCAudioSink: new (track: unknown) => {
      ondata:
        ((data: { samples: Int16Array; sampleRate: number; channelCount: number }) => void) | null;
      stop(): void;
    };
  };
}
const wrtc = createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;

const ports = new PortAllocator();
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

type Ports = { portMin: number; portMax: number; webrtcPortMin: number; webrtcPortMax: number };
const logger = pino({ level: 'silent' });
const engines: [string, (ports: Ports) => Promise<MediaEngine>][] = [
  ['relay', (p) => Promise.resolve(createRelayEngine({ address: '127.0.0.1', ...p, logger }))],
  ['mediasoup', (p) => createMediasoupEngine({ address: '127.0.0.1', ...p, workers: 1, logger })],
];

describe.each(engines)('%s engine', (_name, makeEngine) => {
  it('plays a tone a libwebrtc peer hears over PCMU at its frequency', async () => {
    const media = await ports.allocate(8, { protocols: ['udp'], even: true });
    const webrtc = await ports.allocate(8, { protocols: ['udp'] });
    const engine = await makeEngine({
      portMin: media.base,
      portMax: media.base + media.size - 1,
      webrtcPortMin: webrtc.base,
      webrtcPortMax: webrtc.base + webrtc.size - 1,
    });
    const apps = new MediaApps({ logger: pino({ level: 'silent' }) });
    cleanups.push(
      () => media.release(),
      () => webrtc.release(),
      () => engine.close(),
      () => apps.close(),
    );
    const router = engine.createRouter({ callId: 'browser', inactivityTimeoutMs: 0 });
    const transport = await router.createWebRtcTransport({ name: 'visitor' });

    const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
    cleanups.push(() => pc.close());
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const heard: Int16Array[] = [];
    let rate = 0;
    pc.ontrack = ({ track }) => {
      const sink = new wrtc.nonstandard.RTCAudioSink(track);
      cleanups.push(() => sink.stop());
      sink.ondata = ({ samples, sampleRate, channelCount }) => {
        rate = sampleRate;
        // First channel only.
        heard.push(samples.filter((_, i) => i % channelCount === 0));
      };
    };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    });
    const pcmu = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };
    const answer = await transport.answer(pc.localDescription!.sdp, pcmu);
    expect(answer).toMatch(/a=rtpmap:0 PCMU\/8000/);
    const connected = new Promise<void>((resolve) =>
      transport.on('state', (state) => state === 'connected' && resolve()),
    );
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    await connected;

    const leg = await apps.attach(router, transport, { codec: pcmu });
    const played = await leg.play(tone({ frequencyHz: 1000, durationMs: 1500 }));
    expect(played).toMatchObject({ reason: 'done', underruns: 0 });
    // libwebrtc plays out silence until audio comes, then the tone: keep what is loud.
    await until(() => heard.length > 0, 'audio at the peer');
    const all = Int16Array.from(heard.flatMap((chunk) => [...chunk]));
    const loud = all.filter((v, i) => Math.abs(v) > 2000 || Math.abs(all[i + 1] ?? 0) > 2000);
    expect(rate).toBeGreaterThan(0);
    expect(loud.length).toBeGreaterThan(rate * 0.5);
    const level1k = levelAt(all, rate, 1000);
    expect(level1k).toBeGreaterThan(10 * levelAt(all, rate, 1300));
    expect(level1k).toBeGreaterThan(10 * levelAt(all, rate, 700));
  });
});
