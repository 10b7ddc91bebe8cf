/**
 * Two gateways' marketplaces on one PostgreSQL (Debian `postgresql`, started
 * by the testkit), as `storage.kind: postgres` wires them: the directory, the
 * impression log, the sealing key, the tracking-number leases, the calls,
 * their daily counts (reports, quality scores) and the call entries are the
 * cluster's.
 */
import { startPostgres, type Postgres } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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
/** Each marketplace's pool, to count the statements it sends. */
const poolOf = new Map<Marketplace, PgPool>();
const POOL = ['+14155550101', '+14155550102', '+14155550103'];

async function gateway(url: string, instanceId: string): Promise<Marketplace> {
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
    instanceId,
  });
  closers.push(
    () => m.close(),
    () => db.close(),
  );
  poolOf.set(m, pool);
  await m.start();
  return m;
}

let databases = 0;
async function cluster() {
  const url = await pg.createDatabase(`cluster_${(databases += 1)}`);
  // Both start before anything is made: B learns A's records from the database.
  const a = await gateway(url, 'gw-a');
  const b = await gateway(url, 'gw-b');
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

    // A call to one of them, on B, recorded again by A (a repeat, or a second gateway): one call.
    const match = await b.hooks.matchInbound({ calledNumber: leased[0] ?? '', at: NOW + 1000 });
    if (!match) throw new Error('no match');
    await b.hooks.callStarted('call-1', match, NOW + 1000);
    await a.hooks.callStarted('call-1', match, NOW + 1000);
    const day = a.index.today(NOW);
    const report = (m: Marketplace) =>
      m.reports.daily({ subject: 'listing', id: listing.id, from: day, to: day });
    // One view of the cluster: both gateways' reports show every impression and the call, once.
    for (const m of [a, b])
      expect(await report(m)).toMatchObject([{ id: listing.id, impressions: 4, calls: 1 }]);
    expect((await a.impressions.list({ listingId: listing.id, limit: 10 })).length).toBe(4);
  });

  it("counts calls carried by A in B's report and quality score, once; a survivor recovers a lost gateway's calls", async () => {
    const { a, b, listing } = await cluster();
    await b.refreshShared();
    const day = a.index.today(NOW);
    // Three calls through A: two answered and kept long enough (charged), one never answered.
    for (const id of ['q-1', 'q-2', 'open-1']) {
      const match = await a.hooks.matchWeb({ listingId: listing.id, at: NOW - 120_000 });
      if (!match) throw new Error('no match');
      await a.hooks.callStarted(id, match, NOW - 120_000);
    }
    for (const id of ['q-1', 'q-2']) {
      await a.hooks.advertiserConnected(id, NOW - 120_000);
      // A repeat of the answer (through B) is not a second answer.
      await b.hooks.advertiserConnected(id, NOW - 110_000);
      expect(await a.hooks.qualify(id, NOW)).toMatchObject({ status: 'charged', amount: 500 });
      // B qualifying the same call: the key and the call's row say it is done.
      expect(await b.hooks.qualify(id, NOW)).toMatchObject({ status: 'duplicate' });
      await a.hooks.callEnded(id, NOW + 1000);
    }
    expect(
      await b.reports.daily({ subject: 'listing', id: listing.id, from: day, to: day }),
    ).toMatchObject([{ calls: 3, answered: 2, qualified: 2, spendCents: 1000 }]);
    expect(
      await b.reports.daily({
        subject: 'advertiser',
        id: listing.advertiserId,
        from: day,
        to: day,
      }),
    ).toMatchObject([{ calls: 3, answered: 2, qualified: 2, spendCents: 1000 }]);
    // B's auction learns A's calls at its refresh: the quality score of 3 calls, 2 answered, 2 qualified.
    const before = b.index.quality(listing.id);
    await b.refreshShared();
    const quality = b.index.quality(listing.id);
    expect(quality).toEqual(a.index.quality(listing.id));
    expect(quality?.answerRate).toBeCloseTo((2 + 10 * 0.5) / (3 + 10));
    expect(quality?.qualificationRate).toBeCloseTo((2 + 10 * 0.5) / (2 + 10));
    expect(quality).not.toEqual(before);
    // A call B reads is A's attribution too (the call rows are shared).
    expect(await b.attribution('q-1')).toMatchObject({ qualified: true, chargedCents: 500 });
    // A call through A that qualified before A died, its charge not made (its timer never ran).
    const due = await a.hooks.matchWeb({ listingId: listing.id, at: NOW - 120_000 });
    if (!due) throw new Error('no match');
    await a.hooks.callStarted('due-1', due, NOW - 120_000);
    await a.hooks.advertiserConnected('due-1', NOW - 120_000);
    // B restarting recovers only its own open calls: A's stay open.
    expect(await b.billing.recover(NOW + 5000)).toEqual({ charged: 0, closed: 0 });
    expect((await a.calls.get('open-1'))?.endedAt).toBeNull();
    // The sweeper finds A by its open marketplace calls (even with no call record open).
    expect(await b.lost.openOwners()).toEqual(['gw-a']);
    // A is lost (its lease lapsed): B, a survivor, closes A's calls and charges the one due, once.
    expect(await b.lost.recoverLost('gw-a')).toEqual({ charged: 1, closed: 2 });
    expect(await b.lost.recoverLost('gw-a')).toEqual({ charged: 0, closed: 0 });
    expect(await b.lost.openOwners()).toEqual([]);
    expect(await b.attribution('due-1')).toMatchObject({ qualified: true, chargedCents: 500 });
    expect(await a.billing.recover(NOW + 5000)).toEqual({ charged: 0, closed: 0 });
  });

  it('stores a call entry once across gateways: the second gateway answers duplicate', async () => {
    const { a, b, publisher } = await cluster();
    await b.refreshShared();
    const slot = (await place(a, publisher.placementKey, 'dev-9')).slots[0];
    if (!slot) throw new Error('nothing placed');
    const entry = {
      id: 'e-1',
      deviceId: 'dev-9',
      number: undefined,
      startedAt: NOW + 60_000,
      durationSeconds: undefined,
      data: {},
    };
    const threshold = a.threshold('acme');
    const [onA, onB] = await Promise.all(
      [a, b].map((m) => m.entries.processChunk('acme', [entry], threshold, NOW + 120_000)),
    );
    const results = [...(onA ?? []), ...(onB ?? [])];
    expect(results.map((r) => r.status).sort()).toEqual(['duplicate', 'matched']);
    expect(results.find((r) => r.status === 'duplicate')).toMatchObject({
      previous: { status: 'matched', impressionId: slot.impressionId },
    });
    expect(await b.entryStore.byImpression(slot.impressionId)).toHaveLength(1);
  });

  it('asks PostgreSQL once where once does: a sealed impression, the devices, the slots’ numbers, a new listing’s funds', async () => {
    const { a, b, advertiser, publisher, listing } = await cluster();
    await b.refreshShared();
    const statements = (m: Marketplace) => {
      const pool = poolOf.get(m);
      if (!pool) throw new Error('no pool');
      const spy = vi.spyOn(pool, 'query');
      return {
        matching: (pattern: RegExp) =>
          spy.mock.calls.filter((c) => pattern.test(String(c[0]))).length,
        done: () => spy.mockRestore(),
      };
    };
    // Two more listings: a placement of three slots leases its three numbers in one statement.
    for (const title of ['Drains', 'Boilers'])
      a.registry.createListing(undefined, {
        advertiserId: advertiser.id,
        title,
        category: 'plumbing',
        region: 'US',
        destination: { kind: 'queue', queue: 'sales' },
        bidCents: 400,
        dailyBudgetCents: 50_000,
      });
    await a.registry.written();
    let counted = statements(a);
    const placement = a.registry.publisherByKey(publisher.placementKey);
    if (!placement) throw new Error('no publisher');
    const placed = await a.placements.place({
      publisher: placement,
      category: 'plumbing',
      region: 'US-CA',
      slots: 3,
      deviceId: 'dev-1',
      page: null,
    });
    expect(placed.slots.map((x) => x.numberKind)).toEqual(['leased', 'leased', 'leased']);
    expect(new Set(placed.slots.map((x) => x.number)).size).toBe(3);
    expect(counted.matching(/UPDATE mp_number_leases/)).toBe(1);
    counted.done();

    // A sealed web call on B reads its impression once (the seal's check hands it on).
    const slot = placed.slots.find((x) => x.listing.id === listing.id);
    if (!slot) throw new Error('the listing was not placed');
    const reference = a.seal.seal({
      id: slot.impressionId,
      listingId: listing.id,
      deviceId: 'dev-1',
    });
    counted = statements(b);
    expect(
      await b.hooks.matchWeb({
        listingId: listing.id,
        impressionId: reference,
        deviceId: 'dev-1',
        at: NOW,
      }),
    ).toMatchObject({ kind: 'web', impression: { id: slot.impressionId } });
    expect(counted.matching(/FROM mp_impressions WHERE id = \$1/)).toBe(1);
    counted.done();

    // A call to a static number with the caller's device and number: one read for both.
    const fixed = a.registry.createListing(undefined, {
      advertiserId: advertiser.id,
      title: 'Fixed line',
      category: 'heating',
      destination: { kind: 'queue', queue: 'sales' },
      bidCents: 300,
      dailyBudgetCents: 50_000,
      staticNumber: '+14155550177',
    });
    await a.registry.written();
    counted = statements(a);
    expect(
      await a.hooks.matchInbound({
        calledNumber: '+14155550177',
        deviceId: 'dev-7',
        callerNumber: '+14155559999',
        at: NOW,
      }),
    ).toMatchObject({ kind: 'direct', listing: { id: fixed.id } });
    expect(counted.matching(/mp_impressions/)).toBe(1);
    counted.done();

    // A listing made through B a moment ago, called on A: A learns its advertiser's funds and
    // its spend, not every advertiser's balance while the call waits.
    const fresh = b.registry.createListing(undefined, {
      advertiserId: advertiser.id,
      title: 'Roofer',
      category: 'roofing',
      destination: { kind: 'queue', queue: 'sales' },
      bidCents: 700,
      dailyBudgetCents: 50_000,
    });
    await b.registry.written();
    counted = statements(a);
    expect(await a.hooks.matchWeb({ listingId: fresh.id, at: NOW })).toMatchObject({
      routable: true,
      listing: { id: fresh.id },
    });
    expect(counted.matching(/kind = 'advertiser'/)).toBe(0);
    expect(counted.matching(/FROM mp_listing_spend WHERE listing_id = \$1/)).toBe(1);
    counted.done();
  });
});
