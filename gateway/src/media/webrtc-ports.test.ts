import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { isParleyError } from '@parley/shared/errors';
import { freePort } from '@parley/testkit';
import { createWebRtcPortPool } from './webrtc-ports.js';

const held: Socket[] = [];
afterEach(() => {
  for (const s of held.splice(0)) s.close();
});

async function hold(port: number): Promise<void> {
  const socket = createSocket('udp4');
  held.push(socket);
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
}

/** Four consecutive ports nothing holds right now (the pool's range is one more). */
async function range(): Promise<number> {
  for (;;) {
    const base = await freePort('udp');
    if (base > 65530) continue;
    const probe = createWebRtcPortPool({ address: '127.0.0.1', min: base, max: base + 4 });
    const leases = await Promise.all([1, 2, 3, 4].map(() => probe.lease().catch(() => null)));
    for (const l of leases) l?.release();
    if (leases.every((l) => l !== null)) return base;
  }
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return isParleyError(error) ? error.code : 'untyped';
  }
}

describe('createWebRtcPortPool', () => {
  it('hands out each port but the last once, round-robin, and takes them back', async () => {
    const base = await range();
    const pool = createWebRtcPortPool({ address: '127.0.0.1', min: base, max: base + 4 });
    const a = await pool.lease();
    const b = await pool.lease();
    expect([a.port, b.port]).toEqual([base, base + 1]);
    a.release();
    a.release();
    // Round-robin: the port just given back is the last one reused.
    const c = await pool.lease();
    const d = await pool.lease();
    expect([c.port, d.port]).toEqual([base + 2, base + 3]);
    expect(pool.inUse).toBe(3);
    expect((await pool.lease()).port).toBe(base);
    expect(await refusal(pool.lease())).toBe('media_ports_exhausted');
  });

  it('skips a port another socket holds, and leases at once asked together differ', async () => {
    const base = await range();
    await hold(base + 1);
    const pool = createWebRtcPortPool({ address: '127.0.0.1', min: base, max: base + 4 });
    const ports = (await Promise.all([pool.lease(), pool.lease(), pool.lease()])).map(
      (l) => l.port,
    );
    expect(ports.sort()).toEqual([base, base + 2, base + 3]);
    expect(await refusal(pool.lease())).toBe('media_ports_exhausted');
  });

  it('refuses a range it cannot use', () => {
    for (const [min, max] of [
      [1000, 2000],
      [5000, 4000],
      [5000, 5000],
      [60000, 70000],
    ] as const) {
      expect(() => createWebRtcPortPool({ address: '127.0.0.1', min, max })).toThrow(
        /WebRTC port range/,
      );
    }
  });
});
