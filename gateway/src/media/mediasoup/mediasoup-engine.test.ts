/**
 * What only the mediasoup engine has: its worker processes. Calls spread over
 * the workers; a worker that dies takes its calls down with `media_failed` and
 * is replaced. Needs the worker scripts/setup.sh installs.
 */
import { pino } from 'pino';
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PortAllocator } from '@parley/testkit';
import type { AudioCodec } from '../engine.js';
import { createMediasoupEngine, type MediasoupEngine } from './engine.js';

const logger = pino({ level: 'silent' });
const PCMU: AudioCodec = { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 };
const portAllocator = new PortAllocator();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function ports() {
  const media = await portAllocator.allocate(20, { protocols: ['udp'], even: true });
  const webrtc = await portAllocator.allocate(10, { protocols: ['udp'] });
  cleanups.push(
    () => media.release(),
    () => webrtc.release(),
  );
  return {
    address: '127.0.0.1',
    portMin: media.base,
    portMax: media.base + media.size - 1,
    webrtcPortMin: webrtc.base,
    webrtcPortMax: webrtc.base + webrtc.size - 1,
  };
}

async function engine(workers: number): Promise<MediasoupEngine> {
  const e = await createMediasoupEngine({ ...(await ports()), workers, logger });
  cleanups.push(() => e.close());
  return e;
}

describe('mediasoup engine: workers', () => {
  it('spreads calls over its workers, one WebRTC port each', async () => {
    const e = await engine(2);
    expect(e.workers).toEqual({ running: 2, deaths: 0 });
    const servers = new Set(e.pool.workers.map((w) => w.port));
    expect(servers.size).toBe(2);
    // A call's worker is chosen when it first needs one (here: its browser leg's offer).
    for (let i = 0; i < 4; i += 1) {
      const router = e.createRouter({ callId: `spread-${i}`, inactivityTimeoutMs: 0 });
      const web = await router.createWebRtcTransport({ name: 'agent:desk' });
      const offer = await web.offer([PCMU]);
      expect(offer).toMatch(/a=ice-lite/);
      const port = Number(/^m=audio (\d+)/m.exec(offer)?.[1]);
      expect(servers.has(port)).toBe(true);
    }
    expect(e.pool.workers.map((w) => w.calls)).toEqual([2, 2]);
  });

  it('ends the calls of a worker that died with media_failed, and replaces the worker', async () => {
    const e = await engine(1);
    const router = e.createRouter({ callId: 'doomed', inactivityTimeoutMs: 0 });
    const failed: { reason: string; detail: string }[] = [];
    router.on('failed', (event) => failed.push(event));
    const web = await router.createWebRtcTransport({ name: 'visitor' });
    const states: string[] = [];
    web.on('state', (s) => states.push(s));
    await web.offer([PCMU]);
    const [victim] = e.pool.workers;
    process.kill(victim!.worker.pid, 'SIGKILL');

    await expect.poll(() => failed.length, { timeout: 10_000 }).toBe(1);
    expect(failed[0]).toMatchObject({ reason: 'media_failed' });
    expect(failed[0]!.detail).toMatch(/worker died/);
    expect(states).toContain('failed');
    expect(router.closed).toBe(true);
    expect(e.routerCount).toBe(0);
    // A new worker takes its place (its WebRTC port was freed by the death), and calls go on.
    await expect
      .poll(() => e.pool.workers.some((w) => w !== victim), { timeout: 10_000 })
      .toBe(true);
    expect(e.workers).toEqual({ running: 1, deaths: 1 });
    const next = e.createRouter({ callId: 'next', inactivityTimeoutMs: 0 });
    const leg = await next.createWebRtcTransport({ name: 'visitor' });
    expect(await leg.offer([PCMU])).toMatch(/a=candidate:/);
    next.close();
  });

  it('keeps a SIP leg on its relay when the worker cannot take it (its move fails)', async () => {
    const e = await engine(1);
    const router = e.createRouter({ callId: 'kept', inactivityTimeoutMs: 0 });
    const leg = await router.createPlainTransport({ name: 'agent:a1' });
    // A router already closed refuses the worker's transport.
    const gone = await e.pool.workers[0]!.worker.createRouter({
      mediaCodecs: [{ kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000 }],
    });
    gone.close();
    await expect(leg.upgrade(gone, PCMU, undefined)).rejects.toThrow();
    expect(leg.worker).toBeUndefined();
    expect(leg.inWorker).toBe(false);
    // The relay still has the leg's ports: a packet sent to them is counted.
    const phone = createSocket('udp4');
    cleanups.push(() => void phone.close());
    const rtp = Buffer.alloc(172);
    rtp[0] = 0x80;
    phone.send(rtp, leg.rtpPort, '127.0.0.1');
    await expect.poll(() => leg.relay?.stats().packetsIn ?? -1).toBeGreaterThan(0);
    // And the move can be tried again, into a router that is there.
    const live = await e.pool.workers[0]!.worker.createRouter({
      mediaCodecs: [{ kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000 }],
    });
    cleanups.push(() => live.close());
    await leg.upgrade(live, PCMU, undefined);
    expect(leg.worker).toBeDefined();
    expect(leg.relay).toBeUndefined();
    router.close();
  });
});
