/**
 * The engine contract's lifecycle (see index.ts): inactivity reported once per
 * silence, clear refusals, and closing in cascade from the engine and router.
 */
import { expect, it } from 'vitest';
import { ParleyError } from '@parley/shared/errors';
import type { PlainRtpTransport, WebRtcTransport } from '../engine.js';
import type { ContractFixtures } from './fixtures.js';
import { PCMU, PHONE_HZ } from './peers.js';

export function lifecycleCases({ browserCall, engine, router }: ContractFixtures): void {
  it('tells when a leg’s media stops, once per silence', async () => {
    const { router: r, plain, agent, visitor } = await browserCall({ inactivityTimeoutMs: 1000 });
    const events: { transportId: string }[] = [];
    r.on('inactive', (e) => events.push(e));
    await agent.talk(plain.rtpPort);
    await expect.poll(() => visitor.hears(PHONE_HZ), { timeout: 10_000 }).toBeGreaterThan(0.8);
    expect(events).toHaveLength(0);
    agent.quiet();
    await expect
      .poll(() => events.filter((e) => e.transportId === plain.id).length, { timeout: 10_000 })
      .toBe(1);
    // The browser never stopped: its leg is not reported.
    expect(events.every((e) => e.transportId === plain.id)).toBe(true);
  });

  it('refuses what it cannot take with a clear error', async () => {
    const r = await router();
    const web = await r.createWebRtcTransport({ name: 'visitor' });
    await expect(web.answer('v=0\r\nnot sdp at all', PCMU)).rejects.toMatchObject({
      code: 'offer_required',
    });
    const other = await router();
    const foreign = await other.createPlainTransport({ name: 'elsewhere' });
    const plain = await r.createPlainTransport({ name: 'agent' });
    expect(() => r.pipe(plain, foreign)).toThrow(ParleyError);
    expect(() => plain.setRemote({ address: 'phone.example', rtpPort: 4000 })).toThrow(ParleyError);
  });

  it('closes in cascade, each close safe twice, and frees what it held', async () => {
    const e = await engine();
    const r = e.createRouter({ callId: 'close', inactivityTimeoutMs: 0 });
    const closes: string[] = [];
    r.on('close', () => closes.push('router'));
    const plain: PlainRtpTransport = await r.createPlainTransport({ name: 'agent' });
    const web: WebRtcTransport = await r.createWebRtcTransport({ name: 'visitor' });
    expect(e.routerCount).toBe(1);
    r.close();
    r.close();
    expect(closes).toEqual(['router']);
    expect([r.closed, plain.closed, web.closed]).toEqual([true, true, true]);
    expect(e.routerCount).toBe(0);
    await expect(r.createPlainTransport({ name: 'late' })).rejects.toThrow(ParleyError);
    // The ports came back: every pair of the range can be had again.
    const again = e.createRouter({ callId: 'again', inactivityTimeoutMs: 0 });
    const legs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => again.createPlainTransport({ name: `leg ${i}` })),
    );
    expect(new Set(legs.map((l) => l.rtpPort)).size).toBe(20);
    await e.close();
    await e.close();
    expect(again.closed).toBe(true);
  });
}
