/**
 * Two gateways' marketplaces on one PostgreSQL (Debian `postgresql`, started
 * by the testkit), as `storage.kind: postgres` wires them: the directory, the
 * impression log, the sealing key and the tracking-number leases are the
 * cluster's; each gateway keeps its calls and reports in its own SQLite file.
 */
import { startPostgres, type Postgres } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { LEDGER_PG_MIGRATIONS, LEDGER_SCHEMA } from '../ledger/index.js';
import { createLogger } from '../observability/index.js';
import { openDatabase } from '../storage/index.js';
import { createPgPool, migratePostgres, type PgPool } from '../storage/postgres/index.js';
import { Marketplace } from './marketplace.js';
import { MARKETPLACE_PG_MIGRATIONS, PgCharges } from './pg-charges.js';
import { MARKETPLACE_SCHEMA } from './schema.js';

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

const NOW = Date.UTC(2026, 11, 6, 15, 0);
const POOL = ['+14155550101', '+14155550102', '+14155550103'];

async function gateway(url: string): Promise<Marketplace> {
  const pool = createPgPool({ url, poolSize: 5 });
  pools.push(pool);
  await migratePostgres(pool, [
    { name: 'ledger', postgres: LEDGER_PG_MIGRATIONS },
    { name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS },
  ]);
  const db = openDatabase(':memory:', [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const m = new Marketplace({
    db,
    config: configSchema.shape.marketplace.parse({
      tenants: { acme: { trackingNumbers: { numbers: POOL, leaseSeconds: 900 } } },
    }),
    environment: {
      tenantExists: () => true,
      queueTenant: () => 'acme',
      agentTenant: () => undefined,
    },
    logger: createLogger('silent'),
    now: () => NOW,
    shared: new PgCharges(pool, 'USD'),
  });
  closers.push(
    () => m.close(),
    () => db.close(),
  );
  await m.start();
  return m;
}

let databases = 0;
async function cluster() {
  const url = await pg.createDatabase(`cluster_${(databases += 1)}`);
  // Both start before anything is made: B learns A's records from the database.
  const a = await gateway(url);
  const b = await gateway(url);
  const advertiser = await a.registry.createAdvertiser(undefined, {
    tenant: 'acme',
    name: 'Plumbing Inc',
    initialBalanceCents: 100_000,
  });
  const publisher = await a.registry.createPublisher(undefined, {
    tenant: 'acme',
    name: 'News',
    origins: ['https://news.example'],
  });
  const listing = a.registry.createListing(undefined, {
    advertiserId: advertiser.id,
    title: 'Plumber',
    category: 'plumbing',
    region: 'US',
    destination: { kind: 'queue', queue: 'sales' },
    bidCents: 500,
    dailyBudgetCents: 50_000,
  });
  await a.registry.written();
  return { a, b, advertiser, publisher, listing };
}

const place = async (m: Marketplace, key: string, deviceId: string) => {
  const publisher = m.registry.publisherByKey(key);
  if (!publisher) throw new Error('the publisher is unknown to this gateway');
  return await m.placements.place({
    publisher,
    category: 'plumbing',
    region: 'US-CA',
    slots: 1,
    deviceId,
    page: null,
  });
};

describe('the marketplace of two gateways on one PostgreSQL', () => {
  it('places a listing made through the other gateway once it refreshed, and calls to it find it at once', async () => {
    const { a, b, publisher, listing } = await cluster();
    expect(b.registry.publisherByKey(publisher.placementKey)).toBeUndefined();
    // The 5 s refresh (run here by hand): B knows the publisher and places A's listing.
    await b.refreshShared();
    const placed = await place(b, publisher.placementKey, 'dev-1');
    expect(placed.slots.map((s) => s.listing.id)).toEqual([listing.id]);
    expect(b.registry.listing(undefined, listing.id).advertiserId).toBe(listing.advertiserId);

    // A listing made through B a moment ago: a web call reaching A routes to it before any refresh.
    const fresh = b.registry.createListing(undefined, {
      advertiserId: listing.advertiserId,
      title: 'Roofer',
      category: 'roofing',
      destination: { kind: 'queue', queue: 'sales' },
      bidCents: 700,
      dailyBudgetCents: 50_000,
    });
    await b.registry.written();
    expect(a.index.get(fresh.id)).toBeUndefined();
    // The SBC's token check finds its tenant (read from the database), then the call path routes it.
    expect(await a.listingTenant(fresh.id)).toBe('acme');
    expect(await a.hooks.matchWeb({ listingId: fresh.id, at: NOW })).toMatchObject({
      kind: 'direct',
      routable: true,
      price: 700,
      listing: { id: fresh.id },
    });
    // A pause made through A reaches B's auction at its refresh.
    a.registry.updateListing(undefined, listing.id, { status: 'paused' });
    await a.registry.written();
    await b.refreshShared();
    expect((await place(b, publisher.placementKey, 'dev-2')).slots).toEqual([]);
  });

  it('attributes on one gateway an impression sealed by the other; forged ones are not', async () => {
    const { a, b, publisher, listing } = await cluster();
    const placed = await place(a, publisher.placementKey, 'dev-1');
    const slot = placed.slots[0];
    if (!slot) throw new Error('nothing placed');
    const reference = a.seal.seal({
      id: slot.impressionId,
      listingId: listing.id,
      deviceId: 'dev-1',
    });
    // The same key on both gateways: B opens A's seal, and attributes the call to A's impression.
    expect(b.seal.seal({ id: slot.impressionId, listingId: listing.id, deviceId: 'dev-1' })).toBe(
      reference,
    );
    const web = await b.hooks.matchWeb({
      listingId: listing.id,
      impressionId: reference,
      deviceId: 'dev-1',
      at: NOW,
    });
    expect(web).toMatchObject({
      kind: 'web',
      impression: { id: slot.impressionId },
      publisherId: publisher.id,
      price: slot.price,
    });
    expect(web?.claim).toBeUndefined();
    const forged = await b.hooks.matchWeb({
      listingId: listing.id,
      impressionId: `${slot.impressionId}.AAAAAAAAAAAAAAAAAAAAAA`,
      deviceId: 'dev-1',
      at: NOW,
    });
    expect(forged).toMatchObject({ kind: 'direct', impression: null });
    expect(forged?.claim).toMatch(/^forged: /);
    // A carrier's call to the number A leased, arriving at B, finds A's impression.
    expect(slot.numberKind).toBe('leased');
    expect(
      await b.hooks.matchInbound({ calledNumber: slot.number ?? '', at: NOW + 60_000 }),
    ).toMatchObject({ kind: 'tracked', impression: { id: slot.impressionId }, routable: true });
  });

  it('never leases one number to two impressions, and counts each impression and call once', async () => {
    const { a, b, publisher, listing } = await cluster();
    await b.refreshShared();
    // Four devices at once, two through each gateway, on a pool of three numbers.
    const placed = await Promise.all(
      ['dev-1', 'dev-2', 'dev-3', 'dev-4'].map((d, i) =>
        place(i % 2 === 0 ? a : b, publisher.placementKey, d),
      ),
    );
    const slots = placed.flatMap((p) => p.slots);
    expect(slots).toHaveLength(4);
    const leased = slots.filter((s) => s.numberKind === 'leased').map((s) => s.number);
    expect(leased).toHaveLength(3);
    expect(new Set(leased).size).toBe(3);
    expect(slots.filter((s) => s.numberKind !== 'leased')).toHaveLength(1);
    expect((await a.numbers('acme'))?.leased).toBe(3);
    expect((await b.numbers('acme'))?.leased).toBe(3);

    // A call to one of them, on B: counted by B only.
    const match = await b.hooks.matchInbound({ calledNumber: leased[0] ?? '', at: NOW + 1000 });
    if (!match) throw new Error('no match');
    await b.hooks.callStarted('call-1', match, NOW + 1000);
    const day = a.index.today(NOW);
    const report = (m: Marketplace) =>
      m.reports.daily({ subject: 'listing', id: listing.id, from: day, to: day });
    const [onA, onB] = [report(a), report(b)];
    // Each gateway counted its own placements; together, every impression once.
    expect((onA[0]?.impressions ?? 0) + (onB[0]?.impressions ?? 0)).toBe(4);
    expect(onA[0]?.impressions).toBe(2);
    expect((await a.impressions.list({ listingId: listing.id, limit: 10 })).length).toBe(4);
    expect((onA[0]?.calls ?? 0) + (onB[0]?.calls ?? 0)).toBe(1);
  });
});
