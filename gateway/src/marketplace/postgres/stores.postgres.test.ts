/**
 * The marketplace's stores on a real PostgreSQL (Debian `postgresql`,
 * started by the testkit), with the SQLite stores run through the same
 * cases: the impression log, the directory, the number leases.
 */
import { describe, expect, it } from 'vitest';
import { LEDGER_SCHEMA } from '../../ledger/index.js';
import { openDatabase } from '../../storage/index.js';
import { migratePostgres, type PgPool } from '../../storage/postgres/index.js';
import { useTestPostgres } from '../../storage/postgres/test-postgres.js';
import { SqliteDirectoryStore, type DirectoryStore } from '../directory-store.js';
import { SqliteImpressionStore, type ImpressionStore } from '../impression-store.js';
import type { Advertiser, Impression, Listing } from '../model.js';
import { LocalNumberLeases, type NumberLeases } from '../number-leases.js';
import { MARKETPLACE_SCHEMA } from '../schema.js';
import { PgDirectoryStore } from './pg-directory-store.js';
import { PgImpressionStore } from './pg-impression-store.js';
import { PgNumberLeases } from './pg-number-leases.js';
import { MARKETPLACE_PG_MIGRATIONS } from './pg-schema.js';

const pg = useTestPostgres('mp');

const T0 = Date.UTC(2026, 11, 6, 12, 0);
const MIN = 60_000;

interface Stores {
  impressions: ImpressionStore;
  directory: DirectoryStore;
  leases: (numbers: string[], history?: { number: string; end: number }[]) => NumberLeases;
}

async function pgPool(url?: string): Promise<PgPool> {
  const pool = pg.pool(url ?? (await pg.database()));
  await migratePostgres(pool, [{ name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS }]);
  return pool;
}

const kinds: [string, () => Promise<Stores>][] = [
  [
    'sqlite',
    async () => {
      const db = openDatabase(':memory:', [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
      const impressions = new SqliteImpressionStore(db);
      const directory = new SqliteDirectoryStore(db);
      return {
        impressions,
        directory,
        leases: (numbers, history = []) => new LocalNumberLeases(numbers, 60, async () => history),
      };
    },
  ],
  [
    'postgres',
    async () => {
      const pool = await pgPool();
      return {
        impressions: new PgImpressionStore(pool),
        directory: new PgDirectoryStore(pool),
        leases: (numbers, history = []) =>
          new PgNumberLeases(pool, 'acme', numbers, 60, async () => history),
      };
    },
  ],
];

function impression(id: string, over: Partial<Impression> = {}): Impression {
  return {
    id,
    tenant: 'acme',
    placementId: 'pl_1',
    listingId: 'ls_1',
    advertiserId: 'ad_1',
    publisherId: 'pb_1',
    slot: 1,
    price: 250,
    bid: 300,
    quality: 1.25,
    deviceId: 'dev-1',
    page: 'https://news.example/a',
    number: '+14155550101',
    numberKind: 'leased',
    leaseStart: T0,
    leaseEnd: T0 + 15 * MIN,
    createdAt: T0,
    ...over,
  };
}

const placement = (id: string, at = T0) => ({
  id,
  tenant: 'acme',
  publisherId: 'pb_1',
  category: 'plumbing',
  region: 'US',
  slots: 2,
  deviceId: 'dev-1',
  page: null,
  decision: { reserve: 100, slots: [{ slot: 1 }] },
  createdAt: at,
});

const advertiser = (id: string, over: Partial<Advertiser> = {}): Advertiser => ({
  id,
  tenant: 'acme',
  name: 'Plumbing Inc',
  externalId: null,
  billing: 'prepaid',
  creditLimit: 0,
  createdAt: T0,
  updatedAt: T0,
  ...over,
});

const listing = (id: string, over: Partial<Listing> = {}): Listing => ({
  id,
  tenant: 'acme',
  advertiserId: 'ad_1',
  title: 'Plumber',
  description: '24/7',
  category: 'plumbing',
  region: 'US-CA',
  schedule: null,
  destination: { kind: 'queue', queue: 'sales' },
  bid: 1000,
  dailyBudget: 100_000,
  minConnectedSeconds: 60,
  staticNumber: null,
  status: 'active',
  pauseReason: null,
  pausedDay: null,
  createdAt: T0,
  updatedAt: T0,
  ...over,
});

describe.each(kinds)('the marketplace stores on %s', (_kind, open) => {
  it('logs a placement and finds its impressions by id, placement, number, device and listing', async () => {
    const { impressions: s } = await open();
    await s.logPlacement(
      placement('pl_1'),
      [
        impression('im_1'),
        impression('im_2', { slot: 2, listingId: 'ls_2', number: '+14155550102' }),
      ],
      '2026-12-06',
    );
    // The same number leased again later, to another device.
    await s.logPlacement(
      placement('pl_2', T0 + 20 * MIN),
      [
        impression('im_3', {
          placementId: 'pl_2',
          deviceId: 'dev-2',
          leaseStart: T0 + 20 * MIN,
          leaseEnd: T0 + 35 * MIN,
          createdAt: T0 + 20 * MIN,
        }),
      ],
      '2026-12-06',
    );
    expect(await s.impression('im_1')).toEqual(impression('im_1'));
    expect(await s.impression('im_9')).toBeUndefined();
    expect(await s.placement('pl_1')).toEqual(placement('pl_1'));
    expect((await s.byPlacement('pl_1')).map((i) => i.id)).toEqual(['im_1', 'im_2']);
    expect((await s.holderAt('+14155550101', T0 + 5 * MIN))?.id).toBe('im_1');
    expect((await s.holderAt('+14155550101', T0 + 25 * MIN))?.id).toBe('im_3');
    expect(await s.holderAt('+14155550101', T0 - 1)).toBeUndefined();
    expect(await s.impressionIdAt('+14155550101', T0 + 21 * MIN)).toEqual({
      id: 'im_3',
      listingId: 'ls_1',
    });
    expect(
      await s.impressionIdsAt([
        ['+14155550101', T0 + 1],
        ['+14155550102', T0 + 1],
        ['+14155550199', T0 + 1],
        ['+14155550101', T0 + 30 * MIN],
      ]),
    ).toEqual(['im_1', 'im_2', undefined, 'im_3']);
    // Several devices in one query: each its latest (im_1 and im_2 began together: either is dev-1's).
    const latest = await s.latestByDevices('acme', ['dev-1', 'dev-2', 'dev-9'], 0, T0 + 60 * MIN);
    expect(['im_1', 'im_2']).toContain(latest.get('dev-1')?.id);
    expect(latest.get('dev-2')?.id).toBe('im_3');
    expect(latest.has('dev-9')).toBe(false);
    expect((await s.latestByDevices('acme', ['dev-1'], T0 + 1, T0 + 60 * MIN)).size).toBe(0);
    const ofListing = await s.latestOfListing('ls_1', ['dev-2', 'dev-1'], T0 + 40 * MIN);
    expect([ofListing.get('dev-2')?.id, ofListing.get('dev-1')?.id]).toEqual(['im_3', 'im_1']);
    expect((await s.latestOfListing('ls_1', ['dev-2'], T0)).size).toBe(0);
    expect(await s.logEntries('acme', 'dev-2', 0, T0 + 40 * MIN, 5)).toEqual([
      { id: 'im_3', listingId: 'ls_1', number: '+14155550101', leaseStart: T0 + 20 * MIN },
    ]);
    const logs = await s.logEntriesOfDevices(
      'acme',
      ['dev-2', 'dev-1', 'dev-x'],
      0,
      T0 + 60 * MIN,
      1,
    );
    expect([...logs.keys()].sort()).toEqual(['dev-1', 'dev-2']);
    expect(logs.get('dev-1')).toHaveLength(1);
    expect(logs.get('dev-2')?.[0]?.id).toBe('im_3');
    expect((await s.leaseHistory('acme')).sort((a, b) => a.number.localeCompare(b.number))).toEqual(
      [
        { number: '+14155550101', end: T0 + 35 * MIN },
        { number: '+14155550102', end: T0 + 15 * MIN },
      ],
    );
    expect((await s.list({ limit: 2 })).map((i) => i.id)).toEqual(['im_3', expect.any(String)]);
    expect((await s.list({ listingId: 'ls_2', limit: 10 })).map((i) => i.id)).toEqual(['im_2']);
    expect(await s.list({ tenant: 'other', limit: 10 })).toEqual([]);
  });

  it('answers when each device’s first log entry began, for many devices in one query', async () => {
    const { impressions: s } = await open();
    const at = (id: string, deviceId: string, leaseStart: number, tenant = 'acme') =>
      impression(id, {
        deviceId,
        tenant,
        listingId: `ls_${id}`,
        leaseStart,
        leaseEnd: leaseStart + 15 * MIN,
      });
    await s.logPlacement(
      placement('pl_1'),
      [
        at('im_1', 'dev-1', T0 + 30 * MIN),
        at('im_2', 'dev-1', T0 + 10 * MIN),
        at('im_3', 'dev-2', T0 + 20 * MIN),
        at('im_4', 'dev-3', T0, 'other'),
      ],
      '2026-12-06',
    );
    const firsts = await s.firstLogEntryStarts('acme', ['dev-2', 'dev-1', 'dev-3', 'dev-9']);
    expect(new Map([...firsts].sort())).toEqual(
      new Map([
        ['dev-1', T0 + 10 * MIN],
        ['dev-2', T0 + 20 * MIN],
      ]),
    );
    expect((await s.firstLogEntryStarts('acme', [])).size).toBe(0);
  });

  it('keeps the directory: rows, filters, static numbers, pauses, one external id per tenant', async () => {
    const { directory: d } = await open();
    d.putAdvertiser(advertiser('ad_1', { externalId: 'crm-1' }));
    d.putAdvertiser(advertiser('ad_2', { tenant: 'other', createdAt: T0 + 1, updatedAt: T0 + 1 }));
    d.putListing(listing('ls_1', { staticNumber: '+14155550150' }));
    d.putListing(listing('ls_2', { advertiserId: 'ad_2', tenant: 'other', createdAt: T0 + 1 }));
    d.putPublisher({
      id: 'pb_1',
      tenant: 'acme',
      name: 'News',
      placementKey: 'pk_1',
      origins: ['https://news.example'],
      sharePercent: 30,
      status: 'active',
      createdAt: T0,
      updatedAt: T0,
    });
    await d.flush?.();
    expect(() => d.putAdvertiser(advertiser('ad_3', { externalId: 'crm-1' }))).toThrow(/UNIQUE/);
    expect(d.advertiser('ad_1')?.externalId).toBe('crm-1');
    expect(d.advertisers().map((a) => a.id)).toEqual(['ad_1', 'ad_2']);
    expect(d.advertisers('other').map((a) => a.id)).toEqual(['ad_2']);
    expect(d.publisherByKey('pk_1')?.origins).toEqual(['https://news.example']);
    expect(d.publishers('other')).toEqual([]);
    expect(d.listings({ advertiserId: 'ad_2' }).map((l) => l.id)).toEqual(['ls_2']);
    expect(d.listingByStaticNumber('+14155550150')?.id).toBe('ls_1');
    d.setListingStatus('ls_1', 'archived', null, null, T0 + 5);
    expect(d.listingByStaticNumber('+14155550150')).toBeUndefined();
    // The number shown by another listing, then changed: the lookup follows both.
    const other = listing('ls_3', { staticNumber: '+14155550150', createdAt: T0 + 2 });
    d.putListing(other);
    expect(d.listingByStaticNumber('+14155550150')?.id).toBe('ls_3');
    d.putListing({ ...other, staticNumber: '+14155550151', updatedAt: T0 + 3 });
    expect(d.listingByStaticNumber('+14155550150')).toBeUndefined();
    expect(d.listingByStaticNumber('+14155550151')?.id).toBe('ls_3');
    d.setListingStatus('ls_2', 'paused', 'daily_budget_exhausted', '2026-12-06', T0 + 6);
    await d.flush?.();
    expect(d.listing('ls_2')).toMatchObject({
      status: 'paused',
      pauseReason: 'daily_budget_exhausted',
      pausedDay: '2026-12-06',
      updatedAt: T0 + 6,
    });
  });

  it('leases numbers least recently released first, never one still leased', async () => {
    const { leases } = await open();
    const pool = leases(['+1001', '+1002', '+1003'], [{ number: '+1001', end: T0 - 1000 }]);
    await pool.start(T0);
    // Never leased first (config order), then by release.
    const first = await pool.lease(T0);
    const second = await pool.lease(T0);
    const third = await pool.lease(T0);
    expect([first?.number, second?.number, third?.number]).toEqual(['+1002', '+1003', '+1001']);
    expect(third?.end).toBe(T0 + 60_000);
    expect(await pool.lease(T0 + 1)).toBeUndefined();
    expect(await pool.leasedAt(T0 + 1)).toBe(3);
    // All come back at the end of their leases, and are leased again in release order.
    expect((await pool.lease(T0 + 60_000))?.number).toBe('+1002');
    expect(await pool.leasedAt(T0 + 60_000)).toBe(1);
  });

  it('leases a placement’s numbers together, in the order single leases would take them', async () => {
    const { leases } = await open();
    const pool = leases(
      ['+1001', '+1002', '+1003', '+1004'],
      [{ number: '+1001', end: T0 - 1000 }],
    );
    await pool.start(T0);
    const many = await pool.leaseMany(T0, 3);
    expect(many.map((l) => l.number)).toEqual(['+1002', '+1003', '+1004']);
    // One left: a placement of two gets one.
    expect((await pool.leaseMany(T0, 2)).map((l) => l.number)).toEqual(['+1001']);
    expect(await pool.leaseMany(T0 + 1, 2)).toEqual([]);
    // They come back in the order they were handed out.
    expect((await pool.leaseMany(T0 + 60_000, 4)).map((l) => l.number)).toEqual([
      '+1002',
      '+1003',
      '+1004',
      '+1001',
    ]);
  });
});

describe('the marketplace stores shared by two gateways (PostgreSQL)', () => {
  it('a second gateway reads the first one’s directory and impressions', async () => {
    const pool = await pgPool();
    const a = new PgDirectoryStore(pool);
    const b = new PgDirectoryStore(pool);
    await b.refresh();
    a.putAdvertiser(advertiser('ad_1'));
    a.putListing(listing('ls_1'));
    await a.flush();
    // Unknown to B's copy until it reads it: on demand (a call to it), or at its refresh.
    expect(b.listing('ls_1')).toBeUndefined();
    expect((await b.fetchListing('ls_1'))?.title).toBe('Plumber');
    expect(b.advertiser('ad_1')?.name).toBe('Plumbing Inc');
    a.setListingStatus('ls_1', 'paused', 'manual', null, T0 + 10);
    await a.flush();
    expect((await b.refresh()).map((l) => l.id)).toEqual(['ls_1']);
    expect(b.listing('ls_1')?.status).toBe('paused');
    // Nothing newer: nothing changed.
    expect(await b.refresh()).toEqual([]);

    const shown = new PgImpressionStore(pool);
    await shown.logPlacement(placement('pl_1'), [impression('im_1')], '2026-12-06');
    expect((await new PgImpressionStore(pool).impression('im_1'))?.deviceId).toBe('dev-1');
  });

  it('two gateways leasing from one pool at once never take the same number', async () => {
    const url = await pg.database();
    const [pool, other] = [await pgPool(url), await pgPool(url)];
    const numbers = Array.from({ length: 20 }, (_, i) => `+1415555${String(i).padStart(4, '0')}`);
    const a = new PgNumberLeases(pool, 'acme', numbers, 60);
    const b = new PgNumberLeases(other, 'acme', numbers, 60);
    await Promise.all([a.start(), b.start()]);
    // 30 leases asked at once, 15 through each gateway: 20 numbers, each leased once, 10 refused.
    const leased = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).lease(T0)),
    );
    const got = leased.flatMap((l) => (l ? [l.number] : []));
    expect(got).toHaveLength(20);
    expect(new Set(got).size).toBe(20);
    expect(await a.leasedAt(T0)).toBe(20);
    expect(await b.lease(T0 + 59_999)).toBeUndefined();
    expect(await b.lease(T0 + 60_000)).toBeDefined();
  });
});
