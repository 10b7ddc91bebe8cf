/**
 * The per-minute meter on a fake clock: the first minute at connect, one per
 * minute after, the warning when the balance pays the minute under way and no
 * more, the end when the next minute cannot be paid, a top-up that saves the
 * call, late timers that catch up, and meters a crash left open.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../observability/index.js';
import { Meter, type MeterEvents } from './meter.js';
import { TENANT, createGatedWorld, type GatedWorld } from './testing/world.js';

let w: GatedWorld;
let meter: Meter;
let events: [string, unknown][];

beforeEach(async () => {
  vi.useFakeTimers({ now: Date.UTC(2026, 0, 5, 12) });
  w = await createGatedWorld();
  meter = new Meter({
    billing: w.store.billing,
    metrics: w.metrics,
    logger: createLogger('silent'),
  });
  events = [];
  for (const name of ['charged', 'warning', 'end'] as const)
    meter.on(name, (e: MeterEvents[typeof name][0]) => events.push([name, e]));
});

afterEach(() => {
  meter.close();
  w.close();
  vi.useRealTimers();
});

const call = (id: string, accountId = 'a-1') => ({
  callId: id,
  tenant: TENANT,
  accountId,
  ratePerMinute: 10,
});
const balance = async (id = 'a-1') => (await w.store.accounts.get(TENANT, id))?.balance;

describe('meter', () => {
  it('charges the first minute at connect and each started minute after, until stop', async () => {
    await w.account('a-1', { balance: 100 });
    expect(await meter.start(call('c-1'))).toEqual({ ok: true, balance: 90, duplicate: false });
    await vi.advanceTimersByTimeAsync(59_999);
    expect(await balance()).toBe(90);
    await vi.advanceTimersByTimeAsync(1);
    expect(await balance()).toBe(80);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await meter.stop('c-1')).toMatchObject({
      state: 'ended',
      endReason: 'hangup',
      minutesCharged: 2,
    });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(await balance()).toBe(80);
    expect((await w.store.billing.charges(TENANT, 'c-1')).map((c) => c.minute)).toEqual([1, 2]);
    expect(await meter.stop('c-1')).toMatchObject({ state: 'ended' }); // safe twice
  });

  it('warns a minute before the balance runs out, then ends the call when it does', async () => {
    await w.account('a-1', { balance: 25 });
    await meter.start(call('c-1'));
    await vi.advanceTimersByTimeAsync(60_000); // minute 2: 5 left, minute 3 cannot be paid
    expect(events.map(([n]) => n)).toEqual(['charged', 'charged', 'warning']);
    expect(events[2]?.[1]).toEqual({
      callId: 'c-1',
      accountId: 'a-1',
      balance: 5,
      secondsLeft: 60,
    });
    await vi.advanceTimersByTimeAsync(59_999);
    expect(events).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(events[3]).toEqual([
      'end',
      { callId: 'c-1', accountId: 'a-1', reason: 'balance_exhausted', minutes: 2 },
    ]);
    expect(await w.store.billing.meter('c-1')).toMatchObject({
      state: 'ended',
      endReason: 'balance_exhausted',
    });
    expect(meter.isRunning('c-1')).toBe(false);
    expect(await balance()).toBe(5);
    expect(await w.registry.metrics()).toContain(
      'parley_gated_meter_ends_total{tenant="facility",reason="balance_exhausted"} 1',
    );
  });

  it('goes on after the warning when the account is topped up during the call', async () => {
    await w.account('a-1', { balance: 15 });
    await meter.start(call('c-1'));
    expect(events.map(([n]) => n)).toEqual(['charged', 'warning']);
    await w.store.billing.credit({
      tenant: TENANT,
      accountId: 'a-1',
      key: 'topup',
      amount: 100,
      note: null,
      actor: 't',
      at: 0,
    });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(events.map(([n]) => n)).toEqual(['charged', 'warning', 'charged', 'charged']);
    expect(await balance()).toBe(85);
  });

  it('refuses to start when the first minute cannot be paid (nothing is charged)', async () => {
    await w.account('a-1', { balance: 9 });
    expect(await meter.start(call('c-1'))).toEqual({ ok: false, reason: 'insufficient' });
    expect(await balance()).toBe(9);
    expect(meter.isRunning('c-1')).toBe(false);
  });

  it('answers a second start of the same call without charging again', async () => {
    await w.account('a-1', { balance: 100 });
    await meter.start(call('c-1'));
    expect(await meter.start(call('c-1'))).toEqual({ ok: true, balance: 90, duplicate: true });
    expect(await balance()).toBe(90);
  });

  it('charges every minute started when its timer comes late (a blocked event loop)', async () => {
    await w.account('a-1', { balance: 100 });
    await meter.start(call('c-1'));
    // The wall clock moves 2½ minutes on while the timer does not run; when it
    // fires (at its own minute), 3½ minutes have gone by.
    vi.setSystemTime(Date.now() + 150_000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect((await w.store.billing.charges(TENANT, 'c-1')).map((c) => c.minute)).toEqual([
      1, 2, 3, 4,
    ]);
    expect(await balance()).toBe(60);
  });

  it('closes the meters a crash left running; their charged minutes stand', async () => {
    await w.account('a-1', { balance: 100 });
    await meter.start(call('c-1'));
    meter.close(); // the process dies: no stop()
    const next = new Meter({ billing: w.store.billing, logger: createLogger('silent') });
    expect(await next.recover()).toMatchObject([
      { callId: 'c-1', state: 'interrupted', endReason: 'gateway_restart', minutesCharged: 1 },
    ]);
    expect(await next.recover()).toEqual([]);
    expect(await balance()).toBe(90);
  });

  it('meters a free account (rate 0) without warning or end', async () => {
    await w.account('a-1', { balance: 0, ratePerMinute: 0 });
    expect((await meter.start({ ...call('c-1'), ratePerMinute: 0 })).ok).toBe(true);
    await vi.advanceTimersByTimeAsync(300_000);
    expect(events.filter(([n]) => n !== 'charged')).toEqual([]);
    expect((await w.store.billing.meter('c-1'))?.minutesCharged).toBe(6);
  });
});
