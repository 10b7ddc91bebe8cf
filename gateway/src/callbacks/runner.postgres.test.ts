/**
 * The runner's races on a real PostgreSQL (the testkit's), its pool behind a
 * proxy that reads the frontend protocol (`test-pg-proxy.ts`): a claim whose
 * COMMIT lands and whose answer is cut off on the way back, a claim that
 * never reaches the server, a cancel that reads a callback scheduled while
 * the claim is held on the wire (committed before or after the cancel's
 * conditional write), the writes after it failing. What the SQLite world of
 * `runner.test.ts` shows with a store that answers late, here with the
 * server's own statements. The attempt is the fake of `runner-world.ts`: no
 * trunk, the dial fails at once (`failed`); `dials` counts the dials.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '@parley/testkit';
import type { PgProxy } from '../storage/postgres/test-pg-proxy.js';
import { useTestPostgres } from '../storage/postgres/test-postgres.js';
import { CLAIM, CLAIM_AGAIN, SAVE, SAVE_IF, pgRunnerWorld } from './runner-pg-world.js';
import type { Scheduling } from './runner-world.js';
import { callbackRecord } from './store-contract.js';

const pg = useTestPostgres('cbrun');
const proxies: PgProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function world(scheduling?: Scheduling) {
  const w = await pgRunnerWorld(pg, proxies, scheduling);
  await w.rows.insert(callbackRecord('cb-1'), 'h');
  return w;
}

describe('a claim whose answer is lost (PostgreSQL)', () => {
  it('committed, its answer cut off: the claim is this run’s, dialled once and ended', async () => {
    const { proxy, rows, service, dials } = await world();
    proxy.cut(CLAIM, 'lose');
    await service.run('cb-1');
    expect(proxy.cuts).toBe(1);
    expect(dials).toEqual(['acme']);
    const row = await rows.get('cb-1');
    expect(row).toMatchObject({ state: 'ended', outcome: 'failed' });
    expect(row?.attempts).toHaveLength(1);
  });

  it('never reaching the server: claimed when asked again, dialled once', async () => {
    const { proxy, rows, service, dials } = await world();
    proxy.cut(CLAIM, 'refuse');
    await service.run('cb-1');
    expect(proxy.cuts).toBe(1);
    expect(dials).toEqual(['acme']);
    expect(await rows.get('cb-1')).toMatchObject({ state: 'ended', outcome: 'failed' });
  });

  it('its outcome unknown through every check: learnt at the next run, dialled once', async () => {
    const { proxy, rows, service, dials, writeFailures } = await world();
    // The claim and its three checks commit, and each answer is cut off.
    proxy.cut(CLAIM, 'lose', 4);
    await expect(service.run('cb-1')).rejects.toThrow(/Connection terminated/);
    expect(proxy.cuts).toBe(4);
    expect(writeFailures).toHaveLength(1);
    expect(dials).toEqual([]);
    expect(await rows.get('cb-1')).toMatchObject({ state: 'calling' });
    // The scheduler's next run asks first what became of the claim: it is this gateway's.
    await service.run('cb-1');
    expect(dials).toEqual(['acme']);
    const row = await rows.get('cb-1');
    expect(row).toMatchObject({ state: 'ended', outcome: 'failed' });
    expect(row?.attempts).toHaveLength(1);
  });

  it('cancelled while its outcome is unknown: ended cancelled at the next run, never dialled', async () => {
    const { proxy, rows, service, dials } = await world();
    proxy.cut(CLAIM, 'lose', 4);
    await expect(service.run('cb-1')).rejects.toThrow(/Connection terminated/);
    // The row says calling (the claim landed): the cancel answers it as it is…
    expect(await service.cancel('cb-1')).toMatchObject({ state: 'calling' });
    // …and the next run, the claim found this gateway's, ends it without dialling.
    await service.run('cb-1');
    expect(dials).toEqual([]);
    expect(await rows.get('cb-1')).toMatchObject({
      state: 'ended',
      outcome: 'cancelled',
      attempts: [],
    });
  });

  it('cancelled while a claim that never landed is pending: the claim forgotten', async () => {
    const { proxy, rows, service, runner, dials } = await world();
    // The claim and its three checks never reach the server: the row stays scheduled.
    proxy.cut(CLAIM, 'refuse', 4);
    await expect(service.run('cb-1')).rejects.toThrow(/Connection terminated/);
    expect(runner.owes('cb-1')).toBe(true);
    expect(await rows.get('cb-1')).toMatchObject({ state: 'scheduled' });
    expect(await service.cancel('cb-1')).toMatchObject({ state: 'ended', outcome: 'cancelled' });
    // Nothing kept of it (before: the pending claim stayed in memory for good).
    expect(runner.owes('cb-1')).toBe(false);
    expect(runner.abort('cb-1', 'cancelled')).toBe(false);
    expect(dials).toEqual([]);
  });

  it('a check that finds the row moved by another (a cancel that won) does not dial', async () => {
    const { proxy, rows, service, dials } = await world();
    proxy.cut(CLAIM, 'refuse');
    const checked = proxy.hold(CLAIM_AGAIN);
    const run = service.run('cb-1');
    await checked.held;
    expect(await service.cancel('cb-1')).toMatchObject({ state: 'ended', outcome: 'cancelled' });
    checked.release();
    await run;
    expect(dials).toEqual([]);
    expect(await rows.get('cb-1')).toMatchObject({ outcome: 'cancelled', attempts: [] });
  });
});

describe('a cancel during the claim (PostgreSQL)', () => {
  it('the claim commits first: the run ends it cancelled, never dialled', async () => {
    const { proxy, rows, service, dials } = await world();
    const claim = proxy.hold(CLAIM);
    const run = service.run('cb-1');
    await claim.held;
    // The cancel reads it scheduled, stops the run, and its conditional write is held too.
    const write = proxy.hold(SAVE_IF);
    const cancel = service.cancel('cb-1');
    await write.held;
    claim.release();
    await run;
    write.release();
    expect(await cancel).toMatchObject({ state: 'ended', outcome: 'cancelled' });
    expect(dials).toEqual([]);
    expect(await rows.get('cb-1')).toMatchObject({
      state: 'ended',
      outcome: 'cancelled',
      attempts: [],
    });
  });

  it('another gateway’s cancel commits first: the claim finds it ended, never dialled', async () => {
    const { proxy, rows, other, service, dials } = await world();
    const claim = proxy.hold(CLAIM);
    const run = service.run('cb-1');
    await claim.held;
    // Through B, which has no run of it to stop: only the claim's condition keeps A from dialling.
    expect(await other.cancel('cb-1')).toMatchObject({ state: 'ended', outcome: 'cancelled' });
    claim.release();
    await run;
    expect(dials).toEqual([]);
    expect(await rows.get('cb-1')).toMatchObject({ outcome: 'cancelled', attempts: [] });
  });

  it('the run’s cancelled end not written (the server unreachable): written at the next run', async () => {
    const { proxy, rows, service, dials } = await world();
    const claim = proxy.hold(CLAIM);
    const run = service.run('cb-1');
    await claim.held;
    const write = proxy.hold(SAVE_IF);
    const cancel = service.cancel('cb-1');
    await write.held;
    // The end's three tries never reach the server: the run rejects, the end kept for its next run.
    proxy.cut(SAVE, 'refuse', 3);
    claim.release();
    await expect(run).rejects.toThrow(/Connection terminated/);
    write.release();
    await cancel;
    expect(await rows.get('cb-1')).toMatchObject({ state: 'calling' });
    await service.run('cb-1');
    expect(dials).toEqual([]);
    expect(await rows.get('cb-1')).toMatchObject({ state: 'ended', outcome: 'cancelled' });
  });
});

describe('an attempt’s end that fails (PostgreSQL)', () => {
  it.each(['refuse', 'lose'] as const)(
    'tried again, and at the next run, until written (%s): never dialled again',
    async (kind) => {
      const { proxy, rows, service, dials, writeFailures } = await world();
      proxy.cut(SAVE, kind, 4);
      // Three tries fail: the run rejects (the scheduler runs it again later).
      await expect(service.run('cb-1')).rejects.toThrow(/Connection terminated/);
      expect(writeFailures).toHaveLength(1);
      // Refused, the row is still calling; lost, the first try landed (and the others rewrote it).
      expect((await rows.get('cb-1'))?.state).toBe(kind === 'refuse' ? 'calling' : 'ended');
      // The next run writes the end (one more failure, then written): never dialled again.
      await service.run('cb-1');
      expect(proxy.cuts).toBe(4);
      expect(await rows.get('cb-1')).toMatchObject({ state: 'ended', outcome: 'failed' });
      expect(dials).toEqual(['acme']);
    },
  );
});

describe('a rejected run of a callback waiting for a free agent (PostgreSQL)', () => {
  it.each([
    ['its claim’s outcome unknown', CLAIM, 'lose', 4],
    ['its end not written', SAVE, 'refuse', 3],
  ] as const)(
    '%s: run again at the retry time with no agent free, not expired',
    async (_, marker, kind, count) => {
      let free = 1;
      const { proxy, rows, service, events, dials } = await world({
        freeAgents: () => free,
        retryDelayMs: 400,
      });
      const at = Date.now();
      const record = callbackRecord('cb-2', {
        mode: 'agent-free',
        target: { kind: 'queue', queue: 'sales' },
        dueAt: at,
        // Before the retry: expired first, it would stay calling, its claim or end owed for good.
        expiresAt: at + 200,
      });
      await rows.insert(record, 'h2');
      proxy.cut(marker, kind, count);
      service.schedule(record);
      // Its run took the one free agent; none is free from then on.
      free = 0;
      await until(() => events.length >= 2, 'a second run or an expiry');
      expect(events.slice(0, 2)).toEqual(['run cb-2', 'run cb-2']);
      const ended = async () => {
        const row = await rows.get('cb-2');
        return row?.state === 'ended' ? row : undefined;
      };
      expect(await until(ended, 'the callback ended')).toMatchObject({ outcome: 'failed' });
      expect(dials).toEqual(['acme']);
    },
  );
});

describe('an expiry whose write fails (PostgreSQL)', () => {
  it.each([
    ['never reaching the server', 'refuse', 2, ['expire', 'expire']],
    ['committed, its answer cut off', 'lose', 1, ['expire']],
  ] as const)(
    '%s: tried again, ended expired once, never run',
    async (_, kind, count, failures) => {
      const { proxy, rows, service, progress, events, dials, storeFailures, scheduler } =
        await world({
          freeAgents: () => 0,
          retryDelayMs: 200,
        });
      const at = Date.now();
      const record = callbackRecord('cb-3', {
        mode: 'agent-free',
        target: { kind: 'queue', queue: 'sales' },
        dueAt: at,
        expiresAt: at + 100,
      });
      await rows.insert(record, 'h3');
      const told: string[] = [];
      progress.watch('cb-3', (e) => told.push(`${e.phase} ${e.outcome ?? ''}`));
      proxy.cut(SAVE_IF, kind, count);
      service.schedule(record);
      const ended = async () => {
        const row = await rows.get('cb-3');
        return row?.state === 'ended' ? row : undefined;
      };
      // Before: the first failure was logged and the expiry dropped, the row scheduled for good.
      expect(await until(ended, 'the callback expired')).toMatchObject({ outcome: 'expired' });
      await until(() => !scheduler.has('cb-3') || undefined, 'the scheduler done with it');
      expect(proxy.cuts).toBe(count);
      expect(storeFailures).toEqual(failures);
      expect(events).toEqual([...failures.map(() => 'expire cb-3'), 'expire cb-3']);
      // The page (and the desks) told once, also when the expiry's answer was lost.
      expect(told).toEqual(['ended expired']);
      expect(dials).toEqual([]);
      scheduler.close();
    },
  );
});
