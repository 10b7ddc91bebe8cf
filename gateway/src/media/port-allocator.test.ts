import { createSocket } from 'node:dgram';
import { ParleyError } from '@parley/shared/errors';
import { afterEach, describe, expect, it } from 'vitest';
import { createPortAllocator, type PortPair } from './port-allocator.js';
import { openTestSocket, reservePortBase, type TestSocket } from './test-phone.js';

const held: PortPair[] = [];
const blockers: TestSocket[] = [];
afterEach(async () => {
  for (const pair of held.splice(0)) pair.release();
  await Promise.all(blockers.splice(0).map((s) => s.close()));
});

async function allocateAll(allocator: ReturnType<typeof createPortAllocator>): Promise<PortPair[]> {
  const pairs: PortPair[] = [];
  for (;;) {
    try {
      const pair = await allocator.allocate();
      held.push(pair);
      pairs.push(pair);
    } catch (error) {
      expect(error).toBeInstanceOf(ParleyError);
      expect((error as ParleyError).code).toBe('media_ports_exhausted');
      return pairs;
    }
  }
}

describe('createPortAllocator', () => {
  it('hands out even RTP ports with RTCP on the next port, each once, until exhausted', async () => {
    const base = await reservePortBase(8);
    const allocator = createPortAllocator({ address: '127.0.0.1', min: base, max: base + 7 });
    expect(allocator.capacity).toBe(4);
    const pairs = await allocateAll(allocator);
    expect(pairs.map((p) => p.rtpPort).sort()).toEqual([base, base + 2, base + 4, base + 6]);
    for (const pair of pairs) {
      expect(pair.rtcpPort).toBe(pair.rtpPort + 1);
      expect(pair.rtp.address().port).toBe(pair.rtpPort);
      expect(pair.rtcp.address().port).toBe(pair.rtcpPort);
    }
    expect(allocator.inUse).toBe(4);
    const error = await allocator.allocate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).code).toBe('media_ports_exhausted');
    expect((error as ParleyError).sipStatus).toBe(503);
  });

  it('takes the ports back on release, so the whole range can be allocated again', async () => {
    const base = await reservePortBase(6);
    const allocator = createPortAllocator({ address: '127.0.0.1', min: base, max: base + 5 });
    const first = await allocateAll(allocator);
    expect(first).toHaveLength(3);
    for (const pair of first) {
      pair.release();
      pair.release(); // safe twice
      expect(pair.released).toBe(true);
    }
    expect(allocator.inUse).toBe(0);
    await allocator.drain();
    // The kernel has the ports back: a plain socket binds one.
    const probe = await openTestSocket(first[0]!.rtpPort);
    await probe.close();
    const second = await allocateAll(allocator);
    expect(second.map((p) => p.rtpPort).sort()).toEqual(first.map((p) => p.rtpPort).sort());
  });

  it('skips a pair whose RTP or RTCP port is busy outside our control', async () => {
    const base = await reservePortBase(8);
    blockers.push(await openTestSocket(base)); // RTP of pair 0
    blockers.push(await openTestSocket(base + 3)); // RTCP of pair 1
    const allocator = createPortAllocator({ address: '127.0.0.1', min: base, max: base + 7 });
    const pairs = await allocateAll(allocator);
    expect(pairs.map((p) => p.rtpPort).sort()).toEqual([base + 4, base + 6]);
    // The failed attempt on pair 1 left its RTP port free.
    const probe = await openTestSocket(base + 2);
    await probe.close();
  });

  it('hands a pair over without a gap: a socket asking to share it binds and gets the packets', async () => {
    const base = await reservePortBase(4);
    const allocator = createPortAllocator({ address: '127.0.0.1', min: base, max: base + 3 });
    const pair = await allocator.allocate();
    held.push(pair);
    // What the mediasoup worker does when the leg moves: bind the port too (SO_REUSEADDR)…
    const worker = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve) => worker.bind(pair.rtpPort, '127.0.0.1', resolve));
    const got = new Promise<string>((resolve) => worker.once('message', (m) => resolve(String(m))));
    const peer = createSocket('udp4');
    peer.send('rtp', pair.rtpPort, '127.0.0.1');
    // …and the newest socket gets the peer's packets while the relay's is still open.
    expect(await got).toBe('rtp');
    peer.close();
    worker.close();
    // Anyone else (no SO_REUSEADDR) still finds the port taken while the pair holds it:
    // another allocator on the same range skips it.
    const other = createPortAllocator({ address: '127.0.0.1', min: base, max: base + 3 });
    const second = await allocateAll(other);
    expect(second.map((p) => p.rtpPort)).toEqual([base + 2]);
  });

  it('never hands out a pair twice to concurrent callers', async () => {
    const base = await reservePortBase(10);
    const allocator = createPortAllocator({ address: '127.0.0.1', min: base, max: base + 9 });
    const results = await Promise.allSettled(Array.from({ length: 7 }, () => allocator.allocate()));
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    held.push(...ok);
    expect(ok).toHaveLength(5);
    expect(new Set(ok.map((p) => p.rtpPort)).size).toBe(5);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(2);
  });

  it('rounds an odd minimum up and refuses a range without a pair', () => {
    // Never bound: any base will do.
    const base = 20000;
    expect(
      createPortAllocator({ address: '127.0.0.1', min: base + 1, max: base + 5 }).capacity,
    ).toBe(2);
    expect(() => createPortAllocator({ address: '127.0.0.1', min: base, max: base })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }) as Error,
    );
    expect(() => createPortAllocator({ address: '127.0.0.1', min: 80, max: 90 })).toThrow(
      ParleyError,
    );
  });
});
