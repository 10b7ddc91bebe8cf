/**
 * Two gateways' marketplaces on one PostgreSQL (Debian `postgresql`, started
 * by the testkit), as `storage.kind: postgres` wires them: the directory,
 * the impressions, the calls and their counts and the money (the ledger and
 * the listings' daily spend) in the shared database. Concurrent qualified
 * calls of one listing on both, with a balance that covers only some of them;
 * a charge racing another gateway's refusal of the same call.
 */
import { startPostgres, type Postgres } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { LEDGER_PG_MIGRATIONS, LEDGER_SCHEMA } from '../ledger/index.js';
import { createLogger } from '../observability/index.js';
import { openDatabase, type SqliteDatabase } from '../storage/index.js';
import { createPgPool, migratePostgres, type PgPool } from '../storage/postgres/index.js';
import { accountId } from './accounts.js';
import type { QualifyResult } from './billing.js';
import { chargeShared } from './billing-shared.js';
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

const NOW = Date.UTC(2026, 11, 5, 15, 0);

async function gateway(url: string, db: SqliteDatabase, instanceId: string): Promise<Marketplace> {
  const pool = createPgPool({ url, poolSize: 5 });
  pools.push(pool);
  await migratePostgres(pool, [
    { name: 'ledger', postgres: LEDGER_PG_MIGRATIONS },
    { name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS },
  ]);
  const m = new Marketplace({
    db,
    config: configSchema.shape.marketplace.parse({}),
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
  return m;
}

let databases = 0;
/** Gateway A makes the advertiser and listing; B reads them from the shared directory. */
async function pair(balance: number, dailyBudgetCents = 1_000_000) {
  const url = await pg.createDatabase(`billing_${(databases += 1)}`);
  const dbA = openDatabase(':memory:', [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const a = await gateway(url, dbA, 'gw-a');
  await a.start();
  const advertiser = await a.registry.createAdvertiser(undefined, {
    tenant: 'acme',
    name: 'Plumbing',
    initialBalanceCents: balance,
  });
  const listing = a.registry.createListing(undefined, {
    advertiserId: advertiser.id,
    title: 'Plumber',
    category: 'plumbing',
    destination: { kind: 'queue', queue: 'sales' },
    bidCents: 1000,
    dailyBudgetCents,
    qualification: { minConnectedSeconds: 60 },
  });
  // The directory is the cluster's (PostgreSQL): B reads A's rows once A's writes landed.
  await a.registry.written();
  const dbB = openDatabase(':memory:', [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const b = await gateway(url, dbB, 'gw-b');
  await b.start();
  return { a, b, advertiser, listing };
}

/** A call routed to the listing on `m`, connected a minute ago: it qualifies now. */
async function connect(m: Marketplace, listingId: string, callId: string): Promise<void> {
  const match = await m.hooks.matchWeb({ listingId, at: NOW - 60_000 });
  if (!match?.routable) throw new Error(`listing not routable: ${match?.reason}`);
  await m.hooks.callStarted(callId, match, NOW - 60_000);
  await m.hooks.advertiserConnected(callId, NOW - 60_000);
}

const statuses = (results: QualifyResult[]) =>
  results.map((r) => (r.status === 'refused' ? `refused:${r.reason}` : r.status)).sort();

describe('the marketplace on the shared ledger: two gateways, one PostgreSQL', () => {
  it('charges exactly the calls the balance covers, each once, and a replayed key charges nothing', async () => {
    const { a, b, advertiser, listing } = await pair(4_500);
    const ids = Array.from({ length: 12 }, (_, i) => `call-${i}`);
    const on = (i: number) => (i % 2 === 0 ? a : b);
    for (const [i, id] of ids.entries()) await connect(on(i), listing.id, id);

    const results = await Promise.all(ids.map((id, i) => on(i).hooks.qualify(id, NOW)));
    expect(statuses(results)).toEqual([
      ...Array.from({ length: 4 }, () => 'charged'),
      ...Array.from({ length: 8 }, () => 'refused:insufficient_funds'),
    ]);

    // Replays: the timer again, the call's end, and the key on the other gateway (a call both saw).
    const charged = ids.filter((_, i) => results[i]?.status === 'charged');
    for (const [i, id] of ids.entries()) {
      expect((await on(i).hooks.qualify(id, NOW + 1)).status).not.toBe('charged');
      expect((await on(i).hooks.callEnded(id, NOW + 2)).status).not.toBe('charged');
    }
    for (const id of charged) {
      const other = ids.indexOf(id) % 2 === 0 ? b : a;
      const match = await other.hooks.matchWeb({ listingId: listing.id, at: NOW });
      if (!match) throw new Error('no match');
      const replay = await other.hooks.qualifyCall({
        callId: id,
        match,
        connectedAt: NOW - 60_000,
        now: NOW,
      });
      expect(replay.status).toBe('duplicate');
    }

    const ledger = a.accounts.shared?.ledger;
    if (!ledger) throw new Error('no shared ledger');
    const charges = (await ledger.list({ limit: 100 })).filter((t) => t.kind === 'charge');
    expect(new Set(charges.map((t) => t.key))).toEqual(
      new Set(charged.map((id) => `charge:${id}`)),
    );
    expect(charges).toHaveLength(4);
    expect(await ledger.verify()).toEqual([]);
    expect(await a.accounts.balanceNow(accountId.advertiser(advertiser.id))).toBe(500);
    expect(await b.accounts.balanceNow(accountId.advertiser(advertiser.id))).toBe(500);
    // The shared call rows: the refused calls qualified but charged nothing; counted once each.
    const rows = await Promise.all(ids.map((id, i) => on(i).calls.get(id)));
    expect(rows.reduce((sum, c) => sum + (c?.charged ?? 0), 0)).toBe(4_000);
    expect(rows.every((c) => c?.qualifiedAt !== null)).toBe(true);
    const day = a.index.today(NOW);
    expect(
      await b.reports.daily({ subject: 'listing', id: listing.id, from: day, to: day }),
    ).toMatchObject([{ calls: 12, answered: 12, qualified: 12, spendCents: 4_000 }]);
    // Both gateways paused the listing for want of funds (no gateway routes to it any more).
    for (const m of [a, b]) {
      expect(await m.hooks.matchWeb({ listingId: listing.id, at: NOW })).toMatchObject({
        routable: false,
        reason: 'insufficient_funds',
      });
    }
    // Money paid in through A: B learns it from PostgreSQL (its 5 s refresh, run here at once).
    await a.registry.deposit(undefined, advertiser.id, { amountCents: 10_000 }, 'topup-after');
    await b.registry.refreshFunds();
    for (const m of [a, b]) {
      expect(await m.hooks.matchWeb({ listingId: listing.id, at: NOW })).toMatchObject({
        routable: true,
      });
    }
  });

  it('stops at the daily budget across gateways, counts a deposit once, and refunds what was charged', async () => {
    const { a, b, advertiser, listing } = await pair(100_000, 3_000);
    const ids = Array.from({ length: 8 }, (_, i) => `call-${i}`);
    const on = (i: number) => (i % 2 === 0 ? a : b);
    for (const [i, id] of ids.entries()) await connect(on(i), listing.id, id);
    const results = await Promise.all(ids.map((id, i) => on(i).hooks.qualify(id, NOW)));
    expect(statuses(results)).toEqual([
      ...Array.from({ length: 3 }, () => 'charged'),
      ...Array.from({ length: 5 }, () => 'refused:daily_budget_exhausted'),
    ]);
    expect(await a.accounts.shared?.spent(listing.id, a.index.today(NOW))).toBe(3_000);

    // One deposit key sent to both gateways at once: one deposit.
    const deposits = await Promise.all(
      [a, b].map((m) =>
        m.registry.deposit(undefined, advertiser.id, { amountCents: 5_000 }, 'topup-1'),
      ),
    );
    expect(deposits.filter((d) => !d.duplicate)).toHaveLength(1);
    expect(await b.accounts.balanceNow(accountId.advertiser(advertiser.id))).toBe(
      100_000 - 3_000 + 5_000,
    );

    // A refund on the gateway that handled the call, in the shared ledger, once per key.
    const index = results.findIndex((r) => r.status === 'charged');
    const m = on(index);
    const refund = await m.billing.refund(
      undefined,
      { callId: ids[index], reason: 'not a lead' },
      'r-1',
      NOW + 10,
    );
    const again = await m.billing.refund(
      undefined,
      { callId: ids[index], reason: 'not a lead' },
      'r-1',
      NOW + 11,
    );
    expect(refund).toMatchObject({ duplicate: false, amount: 1_000 });
    expect(again).toMatchObject({ duplicate: true, amount: 1_000 });
    await expect(
      m.billing.refund(undefined, { callId: ids[index], reason: 'not a lead' }, 'r-2', NOW + 12),
    ).rejects.toThrow(/refunded in full/);
    expect(await a.accounts.balanceNow(accountId.advertiser(advertiser.id))).toBe(
      100_000 - 3_000 + 5_000 + 1_000,
    );
    expect(await a.accounts.shared?.ledger.verify()).toEqual([]);
    // The refund is in the call's row and the day's spend, seen from either gateway.
    expect(await b.calls.get(ids[index] ?? '')).toMatchObject({ charged: 1_000, refunded: 1_000 });
    const day = a.index.today(NOW);
    expect(
      await b.reports.daily({ subject: 'listing', id: listing.id, from: day, to: day }),
    ).toMatchObject([{ calls: 8, qualified: 8, spendCents: 2_000 }]);
  });

  it('gives a refund back to the listing’s daily budget, for every gateway', async () => {
    const { a, b, listing } = await pair(100_000, 3_000);
    const shared = a.accounts.shared;
    if (!shared) throw new Error('no shared ledger');
    const day = a.index.today(NOW);
    await connect(a, listing.id, 'first');
    await connect(b, listing.id, 'second');
    const first = await Promise.all([
      a.hooks.qualify('first', NOW),
      b.hooks.qualify('second', NOW),
    ]);
    expect(statuses(first)).toEqual(['charged', 'charged']);
    await a.billing.refund(undefined, { callId: 'first', reason: 'not a lead' }, 'r-1', NOW + 1);
    expect(await shared.spent(listing.id, day)).toBe(1_000);
    // Room for two more calls of the budget again: three qualify at once on both gateways.
    const ids = ['third', 'fourth', 'fifth'];
    const on = (i: number) => (i % 2 === 0 ? b : a);
    for (const [i, id] of ids.entries()) await connect(on(i), listing.id, id);
    const results = await Promise.all(ids.map((id, i) => on(i).hooks.qualify(id, NOW)));
    expect(statuses(results)).toEqual(['charged', 'charged', 'refused:daily_budget_exhausted']);
    expect(await shared.spent(listing.id, day)).toBe(3_000);
    expect(
      await a.reports.daily({ subject: 'listing', id: listing.id, from: day, to: day }),
    ).toMatchObject([{ calls: 5, qualified: 5, spendCents: 3_000 }]);
    expect(await shared.ledger.verify()).toEqual([]);
  });

  it('holds a lowered daily budget on every gateway at once, before their directory refresh', async () => {
    const { a, b, listing } = await pair(100_000, 10_000);
    const ids = ['low-1', 'low-2', 'low-3'];
    for (const id of ids) await connect(b, listing.id, id);
    a.registry.updateListing(undefined, listing.id, { dailyBudgetCents: 2_000 });
    await a.registry.written();
    // B's copy of the directory still has the old budget (its refresh is 5 s away).
    expect(b.directory.listing(listing.id)?.dailyBudget).toBe(10_000);
    const results = await Promise.all(ids.map((id) => b.hooks.qualify(id, NOW)));
    expect(statuses(results)).toEqual(['charged', 'charged', 'refused:daily_budget_exhausted']);
    expect(await b.accounts.shared?.spent(listing.id, b.index.today(NOW))).toBe(2_000);
  });

  it('holds a lowered credit limit on every gateway at once, before their directory refresh', async () => {
    const { a, b } = await pair(0);
    const advertiser = await a.registry.createAdvertiser(undefined, {
      tenant: 'acme',
      name: 'Roofing',
      billing: 'credit',
      creditLimitCents: 5_000,
    });
    const listing = a.registry.createListing(undefined, {
      advertiserId: advertiser.id,
      title: 'Roofer',
      category: 'roofing',
      destination: { kind: 'queue', queue: 'sales' },
      bidCents: 1000,
      dailyBudgetCents: 100_000,
      qualification: { minConnectedSeconds: 60 },
    });
    await a.registry.written();
    await b.refreshShared();
    const ids = ['credit-1', 'credit-2', 'credit-3'];
    for (const id of ids) await connect(b, listing.id, id);
    await a.registry.updateAdvertiser(undefined, advertiser.id, { creditLimitCents: 1_000 });
    // B's copy of the directory still has the old limit (its refresh is 5 s away).
    expect(b.directory.advertiser(advertiser.id)?.creditLimit).toBe(5_000);
    const results = await Promise.all(ids.map((id) => b.hooks.qualify(id, NOW)));
    expect(statuses(results)).toEqual([
      'charged',
      'refused:insufficient_funds',
      'refused:insufficient_funds',
    ]);
    expect(await b.accounts.balanceNow(accountId.advertiser(advertiser.id))).toBe(-1_000);
  });

  it('a charge that finds the call recorded qualified meanwhile (refused, charged 0) moves no money', async () => {
    const { a, b, advertiser, listing } = await pair(1_000);
    await connect(a, listing.id, 'race-1');
    await connect(a, listing.id, 'other-1');
    const shared = b.accounts.shared;
    if (!shared) throw new Error('no shared ledger');
    // B has read the call, unqualified, and is about to charge it (the race's window) ...
    const read = await b.calls.get('race-1');
    if (!read) throw new Error('no call row');
    // ... when another call takes the last 1000 and A's charge of it is refused: recorded
    // qualified, charged 0.
    expect(await a.hooks.qualify('other-1', NOW)).toMatchObject({ status: 'charged' });
    expect(await a.hooks.qualify('race-1', NOW)).toEqual({
      status: 'refused',
      reason: 'insufficient_funds',
    });
    // Money is paid in, and B's charge goes ahead with what it read: refused by the row.
    await a.registry.deposit(undefined, advertiser.id, { amountCents: 5_000 }, 'topup-race');
    const day = a.index.today(NOW);
    expect(await chargeShared(shared, b.directory, read, day, NOW)).toEqual({
      status: 'already_qualified',
    });
    expect(await b.hooks.qualify('race-1', NOW)).toMatchObject({ status: 'duplicate', amount: 0 });
    expect(await shared.ledger.transaction('charge:race-1')).toBeUndefined();
    expect(await b.accounts.balanceNow(accountId.advertiser(advertiser.id))).toBe(5_000);
    expect(await shared.spent(listing.id, day)).toBe(1_000);
    expect(await b.calls.get('race-1')).toMatchObject({ charged: 0, chargeKey: null });
    expect(
      await b.reports.daily({ subject: 'listing', id: listing.id, from: day, to: day }),
    ).toMatchObject([{ qualified: 2, spendCents: 1_000 }]);
  });

  it('under concurrent charges, refusals and deposits on both gateways, the ledger and the rows agree', async () => {
    const { a, b, advertiser, listing } = await pair(3_000);
    const ids = Array.from({ length: 24 }, (_, i) => `busy-${i}`);
    const on = (i: number) => (i % 2 === 0 ? a : b);
    for (const [i, id] of ids.entries()) await connect(on(i), listing.id, id);
    // Each call's timer on its gateway and a repeat on the other (a sweep, a late end), while
    // money is paid in on both: refusals and charges of one call can cross.
    await Promise.all([
      ...ids.flatMap((id, i) => [on(i).hooks.qualify(id, NOW), on(i + 1).hooks.qualify(id, NOW)]),
      ...[1, 2, 3].map((k) =>
        on(k).registry.deposit(undefined, advertiser.id, { amountCents: 2_000 }, `busy-${k}`),
      ),
    ]);
    const shared = a.accounts.shared;
    if (!shared) throw new Error('no shared ledger');
    const rows = [...(await a.calls.getMany(ids)).values()];
    expect(rows).toHaveLength(ids.length);
    expect(rows.every((r) => r.qualifiedAt !== null && [0, 1_000].includes(r.charged))).toBe(true);
    const paid = rows.filter((r) => r.charged > 0);
    const charges = (await shared.ledger.list({ limit: 1_000 })).filter((t) => t.kind === 'charge');
    // One charge per paid row, none for the others, and the same money on both sides.
    expect(charges.map((t) => t.key).sort()).toEqual(paid.map((r) => `charge:${r.callId}`).sort());
    expect(paid.every((r) => r.chargeKey === `charge:${r.callId}`)).toBe(true);
    const debited = charges.flatMap((t) =>
      t.postings.filter((p) => p.account === accountId.advertiser(advertiser.id)),
    );
    const rowsCharged = rows.reduce((sum, r) => sum + r.charged, 0);
    expect(-debited.reduce((sum, p) => sum + p.amount, 0)).toBe(rowsCharged);
    expect(await shared.ledger.verify()).toEqual([]);
    expect(await a.accounts.balanceNow(accountId.advertiser(advertiser.id))).toBe(
      3_000 + 6_000 - rowsCharged,
    );
    const day = a.index.today(NOW);
    expect(await shared.spent(listing.id, day)).toBe(rowsCharged);
    expect(
      await b.reports.daily({ subject: 'listing', id: listing.id, from: day, to: day }),
    ).toMatchObject([{ calls: 24, qualified: 24, spendCents: rowsCharged }]);
  });
});
