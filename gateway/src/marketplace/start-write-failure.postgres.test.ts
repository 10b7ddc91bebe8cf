/**
 * A marketplace call whose row could not be written when it started (the
 * database refused the write, or the connection was cut in the middle of it)
 * is still recorded, counted once and charged exactly once: the answer and
 * the end carry the match and the start (`CallFacts`) and write what is
 * missing. The same cases on the gateway's SQLite file and on a real
 * PostgreSQL (Debian `postgresql`, started by the testkit) with the shared
 * ledger. The failures are the databases' own: on SQLite a trigger aborts the
 * statement; on PostgreSQL a trigger ends its own backend (the client sees
 * the connection die mid-statement).
 */
import { EventEmitter } from 'node:events';
import { startPostgres, type Postgres } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call } from '../calls/index.js';
import { configSchema } from '../config/schema.js';
import { LEDGER_PG_MIGRATIONS, LEDGER_SCHEMA } from '../ledger/index.js';
import { createLogger } from '../observability/index.js';
import { openDatabase } from '../storage/index.js';
import { createPgPool, migratePostgres, type PgPool } from '../storage/postgres/index.js';
import { accountId } from './accounts.js';
import type { MarketplaceCallHooks } from './hooks.js';
import { Marketplace } from './marketplace.js';
import { MARKETPLACE_PG_MIGRATIONS, PgCharges } from './pg-charges.js';
import { MARKETPLACE_SCHEMA } from './schema.js';
import { trackedCalls } from './tracked-calls.js';

let pg: Postgres;
const pools: PgPool[] = [];
const closers: (() => void)[] = [];
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  for (const close of closers) close();
  await Promise.all(pools.map((p) => p.end()));
  await pg?.stop();
});

const T0 = Date.UTC(2026, 11, 6, 12, 0);
const PRICE = 1000;
const BALANCE = 10_000;

/** Makes the next writes of `mp_calls` (inserts, or also updates) fail, until `heal`. */
interface Breaker {
  /** What the failed write throws. */
  readonly error: RegExp;
  break(updatesToo?: boolean): Promise<void>;
  heal(): Promise<void>;
}

let databases = 0;
async function world(kind: 'sqlite' | 'postgres') {
  let now = T0;
  const db = openDatabase(':memory:', [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  let shared: PgCharges | undefined;
  let breaker: Breaker;
  if (kind === 'postgres') {
    const pool = createPgPool({
      url: await pg.createDatabase(`startfail_${(databases += 1)}`),
      poolSize: 4,
    });
    pools.push(pool);
    await migratePostgres(pool, [
      { name: 'ledger', postgres: LEDGER_PG_MIGRATIONS },
      { name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS },
    ]);
    await pool.query(`CREATE FUNCTION cut_connection() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NEW; END $$`);
    shared = new PgCharges(pool, 'USD');
    breaker = {
      // The backend's FATAL, or node-postgres's word for the socket closing first.
      error: /terminating connection|Connection terminated/,
      break: async (updatesToo = false) => {
        await pool.query(`CREATE TRIGGER cut BEFORE INSERT ${updatesToo ? 'OR UPDATE' : ''}
          ON mp_calls FOR EACH ROW EXECUTE FUNCTION cut_connection()`);
      },
      heal: async () => {
        await pool.query('DROP TRIGGER cut ON mp_calls');
      },
    };
  } else {
    breaker = {
      error: /injected: disk I\/O error/,
      break: async (updatesToo = false) => {
        for (const event of updatesToo ? ['INSERT', 'UPDATE'] : ['INSERT'])
          db.exec(`CREATE TRIGGER fail_${event} BEFORE ${event} ON mp_calls
            BEGIN SELECT RAISE(ABORT, 'injected: disk I/O error'); END`);
      },
      heal: async () => {
        db.exec('DROP TRIGGER IF EXISTS fail_INSERT; DROP TRIGGER IF EXISTS fail_UPDATE');
      },
    };
  }
  const m = new Marketplace({
    db,
    config: configSchema.shape.marketplace.parse({}),
    environment: {
      tenantExists: () => true,
      queueTenant: () => 'acme',
      agentTenant: () => undefined,
    },
    logger: createLogger('silent'),
    now: () => now,
    shared,
    instanceId: 'gw-a',
  });
  closers.push(
    () => m.close(),
    () => db.close(),
  );
  await m.start();
  const advertiser = await m.registry.createAdvertiser(undefined, {
    tenant: 'acme',
    name: 'Plumbing',
    initialBalanceCents: BALANCE,
  });
  const listing = m.registry.createListing(undefined, {
    advertiserId: advertiser.id,
    title: 'Plumber',
    category: 'plumbing',
    destination: { kind: 'queue', queue: 'sales' },
    bidCents: PRICE,
    dailyBudgetCents: 100_000,
    qualification: { minConnectedSeconds: 60 },
  });
  await m.registry.written();
  const match = await m.hooks.matchWeb({ listingId: listing.id, at: now });
  if (!match?.routable) throw new Error(`listing not routable: ${match?.reason}`);

  /** The stored row, the ledger's charges of the call, the balance and the day's counts. */
  const money = async (callId: string) => {
    const charges = (await m.accounts.book.list({ limit: 100 })).filter(
      (t) => t.kind === 'charge' && t.key === `charge:${callId}`,
    );
    const day = m.index.today(T0);
    const [counts] = await m.reports.daily({
      subject: 'listing',
      id: listing.id,
      from: day,
      to: day,
    });
    return {
      row: await m.calls.get(callId),
      charges: charges.length,
      balance: await m.accounts.balanceNow(accountId.advertiser(advertiser.id)),
      counts,
    };
  };
  return {
    m,
    match,
    breaker,
    money,
    clock: () => now,
    tick: (ms: number) => (now += ms),
  };
}

const charged = (callId: string, startedAt: number, connectedAt: number) => ({
  row: expect.objectContaining({
    callId,
    startedAt,
    connectedAt,
    qualifiedAt: connectedAt + 60_000,
    charged: PRICE,
    chargeKey: `charge:${callId}`,
  }),
  charges: 1,
  balance: BALANCE - PRICE,
  counts: expect.objectContaining({ calls: 1, answered: 1, qualified: 1, spendCents: PRICE }),
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe.each(['sqlite', 'postgres'] as const)(
  'a call whose start was not written (%s)',
  (kind) => {
    it('is recorded by the answer and charged once by its timer', async () => {
      const w = await world(kind);
      await w.breaker.break();
      await expect(w.m.hooks.callStarted('c1', w.match, T0)).rejects.toThrow(w.breaker.error);
      await w.breaker.heal();
      expect(await w.m.calls.get('c1')).toBeUndefined();

      const facts = { match: w.match, startedAt: T0 };
      const connectedAt = T0 + 5_000;
      expect(await w.m.hooks.advertiserConnected('c1', connectedAt, facts)).toEqual({
        qualifiesAt: connectedAt + 60_000,
      });
      expect(await w.m.hooks.qualify('c1', connectedAt + 60_000)).toMatchObject({
        status: 'charged',
        amount: PRICE,
      });
      // Repeats: the answer again, the end, the timer: nothing more.
      expect(await w.m.hooks.advertiserConnected('c1', connectedAt + 1, facts)).toEqual({
        qualifiesAt: connectedAt + 60_000,
      });
      expect(
        await w.m.hooks.callEnded('c1', connectedAt + 90_000, { ...facts, connectedAt }),
      ).toMatchObject({ status: 'duplicate', amount: PRICE });
      expect(await w.m.hooks.qualify('c1', connectedAt + 91_000)).toMatchObject({
        status: 'duplicate',
      });
      expect(await w.money('c1')).toEqual(charged('c1', T0, connectedAt));
    });

    it('is recorded and charged once by its end when the answer was not written either', async () => {
      const w = await world(kind);
      const facts = { match: w.match, startedAt: T0 };
      const connectedAt = T0 + 3_000;
      await w.breaker.break(true);
      await expect(w.m.hooks.callStarted('c2', w.match, T0)).rejects.toThrow(w.breaker.error);
      await expect(w.m.hooks.advertiserConnected('c2', connectedAt, facts)).rejects.toThrow(
        w.breaker.error,
      );
      await w.breaker.heal();

      const end = { ...facts, connectedAt };
      expect(await w.m.hooks.callEnded('c2', connectedAt + 75_000, end)).toMatchObject({
        status: 'charged',
        amount: PRICE,
      });
      expect(await w.m.hooks.callEnded('c2', connectedAt + 76_000, end)).toMatchObject({
        status: 'duplicate',
      });
      expect(await w.money('c2')).toEqual({
        ...charged('c2', T0, connectedAt),
        row: expect.objectContaining({ charged: PRICE, endedAt: connectedAt + 75_000 }),
      });
    });

    it('is recorded, counted and never charged when it ends unanswered', async () => {
      const w = await world(kind);
      await w.breaker.break();
      await expect(w.m.hooks.callStarted('c3', w.match, T0)).rejects.toThrow(w.breaker.error);
      await w.breaker.heal();
      const facts = { match: w.match, startedAt: T0, connectedAt: null };
      expect(await w.m.hooks.callEnded('c3', T0 + 120_000, facts)).toEqual({
        status: 'not_connected',
      });
      expect(await w.money('c3')).toEqual({
        row: expect.objectContaining({ startedAt: T0, connectedAt: null, endedAt: T0 + 120_000 }),
        charges: 0,
        balance: BALANCE,
        counts: expect.objectContaining({ calls: 1, answered: 0, qualified: 0, spendCents: 0 }),
      });
    });

    it('through the call path: the start fails, the answer and the end charge it once', async () => {
      const w = await world(kind);
      // The real hooks, each one's settling observed (the call path does not await them).
      const settled = { started: deferred(), connected: deferred(), ended: deferred() };
      const watch =
        <A extends unknown[], R>(step: keyof typeof settled, fn: (...a: A) => Promise<R>) =>
        (...a: A): Promise<R> =>
          fn(...a).finally(() => settled[step].resolve());
      const real = w.m.hooks;
      const hooks: MarketplaceCallHooks = {
        ...real,
        callStarted: watch('started', real.callStarted),
        advertiserConnected: watch('connected', real.advertiserConnected),
        callEnded: watch('ended', real.callEnded),
      };
      const tracked = trackedCalls({ hooks, now: w.clock, logger: createLogger('silent') });
      const route = await tracked.web({
        listing: w.match.listing.id,
        tenant: 'acme',
        impression: undefined,
        deviceId: undefined,
        at: T0,
      });
      if (route?.kind !== 'route') throw new Error('not routed');

      await w.breaker.break();
      const peer = Object.assign(new EventEmitter(), { id: 'c4' });
      route.attach(peer as unknown as Call);
      await settled.started.promise;
      await w.breaker.heal();
      expect(await w.m.calls.get('c4')).toBeUndefined();

      w.tick(4_000);
      peer.emit('state', 'answered');
      await settled.connected.promise;
      w.tick(80_000);
      peer.emit('ended');
      await settled.ended.promise;
      expect(await w.money('c4')).toEqual({
        ...charged('c4', T0, T0 + 4_000),
        row: expect.objectContaining({ charged: PRICE, endedAt: T0 + 84_000 }),
      });
    });
  },
);
