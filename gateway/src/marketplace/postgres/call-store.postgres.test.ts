/**
 * The marketplace's call rows, daily counts (reports, quality statistics) and
 * call entries: the same cases on SQLite and on a real PostgreSQL (Debian
 * `postgresql`, started by the testkit), then two gateways' stores on one
 * PostgreSQL racing on the same calls and entries (each counted once).
 */
import { describe, expect, it } from 'vitest';
import { LEDGER_SCHEMA } from '../../ledger/index.js';
import { openDatabase } from '../../storage/index.js';
import { migratePostgres, type PgPool } from '../../storage/postgres/index.js';
import { useTestPostgres } from '../../storage/postgres/test-postgres.js';
import {
  SqliteCallEntryStore,
  type CallEntryStore,
  type StoredEntry,
} from '../call-entries/store.js';
import {
  SqliteMarketplaceCallStore,
  type MarketplaceCall,
  type MarketplaceCallStore,
} from '../call-store.js';
import { SqliteReportStore, type ReportStore } from '../reports.js';
import { MARKETPLACE_SCHEMA } from '../schema.js';
import { PgCallEntryStore } from './pg-call-entry-store.js';
import { PgMarketplaceCallStore } from './pg-call-store.js';
import { PgReportStore } from './pg-report-store.js';
import { MARKETPLACE_PG_MIGRATIONS } from './pg-schema.js';

const pg = useTestPostgres('calls');

const T0 = Date.UTC(2026, 11, 6, 12, 0);
const DAY = '2026-12-06';

interface Stores {
  calls: MarketplaceCallStore;
  reports: ReportStore;
  entries: CallEntryStore;
}

async function pgPool(url?: string): Promise<PgPool> {
  const pool = pg.pool(url ?? (await pg.database()));
  await migratePostgres(pool, [{ name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS }]);
  return pool;
}

const pgStores = (pool: PgPool, owner: string): Stores => ({
  calls: new PgMarketplaceCallStore(pool, owner),
  reports: new PgReportStore(pool),
  entries: new PgCallEntryStore(pool),
});

const kinds: [string, () => Promise<Stores>][] = [
  [
    'sqlite',
    async () => {
      const db = openDatabase(':memory:', [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
      return {
        calls: new SqliteMarketplaceCallStore(db),
        reports: new SqliteReportStore(db),
        entries: new SqliteCallEntryStore(db),
      };
    },
  ],
  ['postgres', async () => pgStores(await pgPool(), 'gw-a')],
];

function call(callId: string, over: Partial<MarketplaceCall> = {}): MarketplaceCall {
  return {
    callId,
    tenant: 'acme',
    kind: 'tracked',
    listingId: 'ls_1',
    advertiserId: 'ad_1',
    publisherId: 'pb_1',
    impressionId: 'im_1',
    price: 400,
    minConnectedSeconds: 30,
    day: DAY,
    startedAt: T0,
    connectedAt: null,
    qualifiesAt: null,
    qualifiedAt: null,
    endedAt: null,
    chargeKey: null,
    charged: 0,
    refunded: 0,
    refusal: null,
    claim: null,
    ...over,
  };
}

function entry(entryId: string, over: Partial<StoredEntry> = {}): StoredEntry {
  return {
    tenant: 'acme',
    entryId,
    status: 'matched',
    reason: null,
    impressionId: 'im_1',
    deviceId: 'dev-1',
    number: '+14155550101',
    startedAt: T0,
    durationSeconds: 42.5,
    data: '{"campaign":"x"}',
    receivedAt: T0 + 1000,
    ...over,
  };
}

const report = (r: ReportStore, subject: 'listing' | 'advertiser' | 'publisher' = 'listing') =>
  r.daily({ subject, from: DAY, to: DAY });

describe.each(kinds)('the marketplace call stores on %s', (_kind, open) => {
  it('records, connects, qualifies, ends and refunds a call, counting each step once', async () => {
    const { calls, reports } = await open();
    expect(await calls.insert(call('c1'), true)).toBe(true);
    expect(await calls.insert(call('c1'), true)).toBe(false);
    // A refused call is kept, not counted.
    expect(
      await calls.insert(call('c2', { endedAt: T0, refusal: 'number_not_allowed: x' }), false),
    ).toBe(true);
    expect(await calls.connect('c1', DAY, T0 + 1000, T0 + 31_000)).toBe(true);
    expect(await calls.connect('c1', DAY, T0 + 2000, T0 + 32_000)).toBe(false);
    expect(await calls.connect('nope', DAY, T0, T0)).toBe(false);
    let asked = 0;
    const money = (c: MarketplaceCall) => {
      asked += 1;
      return { chargeKey: `charge:${c.callId}`, charged: c.price };
    };
    const first = await calls.qualify('c1', DAY, T0 + 31_000, money);
    expect(first).toMatchObject({ recorded: true, money: { charged: 400 } });
    expect(await calls.qualify('c1', DAY, T0 + 40_000, money)).toMatchObject({ recorded: false });
    expect(asked).toBe(1);
    expect(await calls.qualify('nope', DAY, T0, money)).toBeUndefined();
    await calls.refund('c1', DAY, 150);
    await calls.setEnded('c1', T0 + 60_000);
    await calls.setEnded('c1', T0 + 70_000);
    expect(await calls.get('c1')).toEqual(
      call('c1', {
        connectedAt: T0 + 1000,
        qualifiesAt: T0 + 31_000,
        qualifiedAt: T0 + 31_000,
        chargeKey: 'charge:c1',
        charged: 400,
        refunded: 150,
        endedAt: T0 + 60_000,
      }),
    );
    expect([...(await calls.getMany(['c1', 'c2', 'c9'])).keys()].sort()).toEqual(['c1', 'c2']);
    expect(
      (await calls.list({ listingId: 'ls_1', limit: 10 })).map((c) => c.callId).sort(),
    ).toEqual(['c1', 'c2']);
    expect(await report(reports)).toMatchObject([
      { day: DAY, id: 'ls_1', calls: 1, answered: 1, qualified: 1, spendCents: 250, answerRate: 1 },
    ]);
    expect(await report(reports, 'publisher')).toMatchObject([{ id: 'pb_1', calls: 1 }]);
    expect(await reports.stats()).toEqual(
      new Map([['ls_1', { calls: 1, answered: 1, qualified: 1 }]]),
    );
    expect(await reports.spendOn(DAY)).toEqual(new Map([['ls_1', 250]]));
  });

  it('finds the calls a crash left open, and remembers when the gateway was alive', async () => {
    const { calls } = await open();
    await calls.insert(call('open'), true);
    await calls.insert(call('done', { endedAt: T0 }), true);
    expect(await calls.aliveAt()).toBeUndefined();
    await calls.heartbeat(T0 + 5000);
    await calls.heartbeat(T0 + 1000);
    expect(await calls.aliveAt()).toBe(T0 + 5000);
    expect((await calls.open()).map((c) => c.callId)).toEqual(['open']);
  });

  it('stores call entries once per id and answers the earlier outcome of a repeat', async () => {
    const { entries } = await open();
    expect(
      await entries.insertNew('acme', [
        entry('e1'),
        entry('e2', { status: 'unmatched', reason: 'no_device', impressionId: null }),
      ]),
    ).toEqual(new Map());
    const again = await entries.insertNew('acme', [entry('e2'), entry('e3')]);
    expect(again).toEqual(
      new Map([['e2', { status: 'unmatched', impressionId: null, reason: 'no_device' }]]),
    );
    // Another tenant's e1 is another entry.
    expect(await entries.insertNew('other', [entry('e1', { tenant: 'other' })])).toEqual(new Map());
    expect(await entries.get('acme', 'e1')).toEqual(entry('e1'));
    expect(await entries.get('acme', 'e2')).toMatchObject({ status: 'unmatched' });
    expect((await entries.byImpression('im_1')).map((e) => e.entryId).sort()).toEqual([
      'e1',
      'e1',
      'e3',
    ]);
  });
});

describe('two gateways’ call stores on one PostgreSQL', () => {
  it('count a call both record, connect and qualify at once only once, and recover only their own', async () => {
    const url = await pg.database();
    const a = pgStores(await pgPool(url), 'gw-a');
    const b = pgStores(await pgPool(url), 'gw-b');
    const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const both = <T>(fn: (s: Stores) => Promise<T>) => Promise.all([fn(a), fn(b)]);
    for (const id of ids) {
      const inserted = await both((s) => s.calls.insert(call(id), true));
      expect(inserted.filter(Boolean)).toHaveLength(1);
    }
    await Promise.all(
      ids.flatMap((id) => [a, b].map((s) => s.calls.connect(id, DAY, T0, T0 + 30_000))),
    );
    const qualified = await Promise.all(
      ids.flatMap((id) =>
        [a, b].map((s) =>
          s.calls.qualify(id, DAY, T0 + 30_000, (c) => ({ chargeKey: null, charged: c.price })),
        ),
      ),
    );
    expect(qualified.filter((q) => q?.recorded)).toHaveLength(10);
    for (const s of [a, b])
      expect(await report(s.reports)).toMatchObject([
        { calls: 10, answered: 10, qualified: 10, spendCents: 4000 },
      ]);
    // Only the gateway that recorded a call first owns it (its recovery closes it).
    const owned = (await a.calls.open()).length + (await b.calls.open()).length;
    expect(owned).toBe(10);
    await a.calls.heartbeat(T0 + 9000);
    expect(await b.calls.aliveAt()).toBeUndefined();

    // One batch of entries sent to both gateways at once: each entry stored once.
    const batch = ids.map((id) => entry(`e-${id}`));
    const [onA, onB] = await both((s) => s.entries.insertNew('acme', batch));
    expect((onA?.size ?? 0) + (onB?.size ?? 0)).toBe(10);
    expect(await a.entries.byImpression('im_1')).toHaveLength(10);
  });
});
