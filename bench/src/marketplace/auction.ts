/**
 * Phase 1: auction decisions per second and their latency with 10,000
 * listings (in one category, and spread over 20 categories × 5 regions),
 * then whole placements (auction, number leases, the decision and
 * impressions logged in SQLite on a file).
 */
import { join } from 'node:path';
import { LEDGER_SCHEMA } from '../../../gateway/src/ledger/index.js';
import { runAuction } from '../../../gateway/src/marketplace/auction.js';
import { MARKETPLACE_SCHEMA, type Advertiser } from '../../../gateway/src/marketplace/index.js';
import { openDatabase } from '../../../gateway/src/storage/index.js';
import { summarize } from '../latency-stats.js';
import { marketplaceOn, type Print } from './setup.js';

export async function auction(dir: string, quick: boolean, print: Print): Promise<void> {
  const LISTINGS = 10_000;
  const DECISIONS = quick ? 2_000 : 20_000;
  const db = openDatabase(join(dir, 'auction.sqlite'), [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const numbers = Array.from(
    { length: 5000 },
    (_, i) => `+1415${String(2_000_000 + i).padStart(7, '0')}`,
  );
  const m = await marketplaceOn(db, {
    tenants: { acme: { trackingNumbers: { numbers, leaseSeconds: 30 } } },
    placement: { maxSlots: 10 },
  });
  const advertisers: Advertiser[] = [];
  for (let i = 0; i < 100; i += 1)
    advertisers.push(
      await m.registry.createAdvertiser(undefined, {
        tenant: 'acme',
        name: `A${i}`,
        initialBalanceCents: 1e9,
      }),
    );
  const publisher = await m.registry.createPublisher(undefined, {
    tenant: 'acme',
    name: 'P',
    origins: ['https://p.example'],
  });
  const categories = Array.from({ length: 20 }, (_, i) => `cat-${i}`);
  const regions = ['US', 'US-CA', 'US-NY', 'US-TX', '*'];
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < LISTINGS; i += 1) {
      m.registry.createListing(undefined, {
        advertiserId: advertisers[i % advertisers.length]?.id,
        title: `Listing ${i}`,
        category: categories[i % categories.length],
        region: regions[i % regions.length],
        destination: { kind: 'queue', queue: 'sales' },
        bidCents: 100 + ((i * 7919) % 5000),
        dailyBudgetCents: 1e8,
      });
    }
  })();
  // Varied quality, as after real calls.
  m.registry.listings(undefined).forEach((l, i) =>
    m.index.setStats(l.id, {
      calls: i % 50,
      answered: (i * 3) % 50 >= i % 50 ? i % 50 : (i * 3) % 50,
      qualified: (i % 50) / 2,
    }),
  );
  print(
    `auction: ${LISTINGS} listings created and indexed in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const decide = (category: string, region: string) => {
    const now = Date.now();
    const { eligible } = m.index.candidates('acme', category, region, now, 4);
    return runAuction(eligible, 3, m.config.reserveCents);
  };
  const measure = (label: string, pick: (i: number) => [string, string]) => {
    const samples: number[] = [];
    for (let i = 0; i < 200; i += 1) decide(...pick(i)); // warm-up
    const start = performance.now();
    for (let i = 0; i < DECISIONS; i += 1) {
      const t = performance.now();
      decide(...pick(i));
      samples.push(performance.now() - t);
    }
    const s = summarize(samples);
    const rate = DECISIONS / ((performance.now() - start) / 1000);
    print(
      `auction (${label}): ${Math.round(rate)} decisions/s, p50 ${s.p50Ms.toFixed(3)} ms, p99 ${s.p99Ms.toFixed(3)} ms, max ${s.maxMs.toFixed(2)} ms`,
    );
  };
  // Worst case: all 10,000 listings in the one category and region asked for.
  const one = openDatabase(join(dir, 'auction-one.sqlite'), [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const single = await marketplaceOn(one);
  const adv = await single.registry.createAdvertiser(undefined, {
    tenant: 'acme',
    name: 'A',
    initialBalanceCents: 1e9,
  });
  one.transaction(() => {
    for (let i = 0; i < LISTINGS; i += 1)
      single.registry.createListing(undefined, {
        advertiserId: adv.id,
        title: `L${i}`,
        category: 'plumbing',
        region: 'US',
        destination: { kind: 'queue', queue: 'sales' },
        bidCents: 100 + ((i * 7919) % 5000),
        dailyBudgetCents: 1e8,
      });
  })();
  {
    const samples: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const { eligible } = single.index.candidates('acme', 'plumbing', 'US-CA', Date.now(), 4);
      runAuction(eligible, 3, 100);
    }
    const start = performance.now();
    const n = Math.max(200, DECISIONS / 10);
    for (let i = 0; i < n; i += 1) {
      const t = performance.now();
      const { eligible } = single.index.candidates('acme', 'plumbing', 'US-CA', Date.now(), 4);
      runAuction(eligible, 3, 100);
      samples.push(performance.now() - t);
    }
    const s = summarize(samples);
    print(
      `auction (10,000 candidates in one category): ${Math.round(n / ((performance.now() - start) / 1000))} decisions/s, p50 ${s.p50Ms.toFixed(3)} ms, p99 ${s.p99Ms.toFixed(3)} ms, max ${s.maxMs.toFixed(2)} ms`,
    );
  }
  single.close();
  one.close();
  measure('10,000 listings over 20 categories × 5 regions', (i) => [
    categories[i % 20] ?? '',
    'US-CA',
  ]);

  // Whole placements: auction, three leases, the decision and three impressions written.
  const samples: number[] = [];
  const PLACEMENTS = quick ? 1000 : 10_000;
  const start = performance.now();
  for (let i = 0; i < PLACEMENTS; i += 1) {
    const t = performance.now();
    await m.placements.place({
      publisher,
      category: categories[i % 20] ?? '',
      region: 'US-CA',
      slots: 3,
      deviceId: `device-${i}`,
      page: 'https://p.example/a',
    });
    samples.push(performance.now() - t);
  }
  const s = summarize(samples);
  print(
    `placement (auction + 3 leases + log in SQLite): ${Math.round(PLACEMENTS / ((performance.now() - start) / 1000))} placements/s, p50 ${s.p50Ms.toFixed(3)} ms, p99 ${s.p99Ms.toFixed(3)} ms; pool ${JSON.stringify(await m.numbers('acme'))}`,
  );
  m.close();
  db.close();
}
