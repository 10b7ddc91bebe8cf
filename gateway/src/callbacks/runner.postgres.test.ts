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
import type { StoredDialog } from '../storage/index.js';
import { migratePostgres } from '../storage/postgres/index.js';
import { startPgProxy, type PgProxy } from '../storage/postgres/test-pg-proxy.js';
import { useTestPostgres } from '../storage/postgres/test-postgres.js';
import { CALLBACKS_PG_MIGRATIONS } from './pg-schema.js';
import { PgCallbackStore } from './pg-store.js';
import { runnerWorld } from './runner-world.js';
import { callbackRecord } from './store-contract.js';

const pg = useTestPostgres('cbrun');
const proxies: PgProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

/** Every claim (first or asked again), a claim asked again, the record's writes, a conditional one. */
const CLAIM = 'claim_token = $';
const CLAIM_AGAIN = "OR (state = 'calling' AND claim_token";
const SAVE = "state <> 'ended'";
const SAVE_IF = 'AND state = $';

async function world() {
  const url = await pg.database();
  const direct = pg.pool(url, 2);
  await migratePostgres(direct, [{ name: 'callbacks', postgres: CALLBACKS_PG_MIGRATIONS }]);
  const server = new URL(url);
  const proxy = await startPgProxy({ host: server.hostname, port: Number(server.port) });
  proxies.push(proxy);
  const store = new PgCallbackStore(pg.pool(proxy.via(url), 4), 'gw-a');
  // The row as the server has it, read past the proxy.
  const rows = new PgCallbackStore(direct, 'gw-a');
  await rows.insert(callbackRecord('cb-1'), 'h');
  // Another gateway on the same database (straight to the server): its service cancels too.
  const other = runnerWorld(new PgCallbackStore(direct, 'gw-b')).service;
  return { proxy, rows, other, ...runnerWorld(store) };
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

describe('a lost gateway’s callback closed by a survivor (PostgreSQL)', () => {
  it.each(['lose', 'refuse'] as const)(
    'its end’s write cut (%s): the legs to hang up are answered once the end is written',
    async (kind) => {
      const { proxy, rows, service } = await world();
      const dialog: StoredDialog = {
        leg: 'caller',
        callId: 'c1@gw-a',
        localTag: 'l1',
        remoteTag: 'r1',
        local: '<sip:gw@127.0.0.1>',
        remote: '<sip:+14155550123@127.0.0.2>',
        remoteTarget: 'sip:+14155550123@127.0.0.2:5060',
        routeSet: [],
        localSeq: 1,
        localContact: '<sip:gw@127.0.0.1:5060>',
        transport: null,
      };
      await rows.save(callbackRecord('cb-1', { state: 'prompting', dialogs: [dialog] }));
      const lost = await rows.inProgress();
      proxy.cut(SAVE_IF, kind);
      const closing = service.closeInterrupted(lost);
      if (kind === 'refuse') {
        // Never written: the close fails, and the next sweep finds it (and its legs) again.
        await expect(closing).rejects.toThrow(/Connection terminated/);
        expect(await rows.get('cb-1')).toMatchObject({ state: 'prompting' });
        expect(await service.closeInterrupted(await rows.inProgress())).toMatchObject({
          interrupted: [{ id: 'cb-1', dialogs: [dialog] }],
        });
      } else {
        // Written, its answer lost: the row says this end landed, the legs are answered now.
        expect(await closing).toMatchObject({ interrupted: [{ id: 'cb-1', dialogs: [dialog] }] });
      }
      expect(await rows.get('cb-1')).toMatchObject({ state: 'ended', outcome: 'interrupted' });
      expect(await rows.inProgress()).toEqual([]);
    },
  );
});
