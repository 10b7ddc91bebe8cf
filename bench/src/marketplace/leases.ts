/**
 * Phase 2: number leases per second, the LRU pool in memory (one gateway)
 * and, with PostgreSQL, the leases every gateway agrees on
 * (`PgNumberLeases`: one lease per statement, and a placement's three in one).
 */
import { PgNumberLeases } from '../../../gateway/src/marketplace/postgres/pg-number-leases.js';
import { TrackingNumberPool } from '../../../gateway/src/marketplace/number-pool.js';
import type { PgPool } from '../../../gateway/src/storage/postgres/index.js';
import { summarize } from '../latency-stats.js';
import type { Print } from './setup.js';

export function leases(quick: boolean, print: Print): void {
  const N = quick ? 200_000 : 2_000_000;
  const pool = new TrackingNumberPool(
    Array.from({ length: 10_000 }, (_, i) => `+1415${String(3_000_000 + i).padStart(7, '0')}`),
    60,
    [],
    0,
  );
  let t = 0;
  let exhausted = 0;
  const start = performance.now();
  for (let i = 0; i < N; i += 1) {
    t += 7; // 10,000 numbers held 60 s, one lease every 7 ms: the pool runs near full
    if (!pool.lease(t)) exhausted += 1;
  }
  const seconds = (performance.now() - start) / 1000;
  print(
    `leases: ${Math.round(N / seconds)} leases/s over a pool of 10,000 (${exhausted} exhausted of ${N})`,
  );
}

/**
 * The leases every gateway agrees on (`PgNumberLeases`): one gateway's
 * sequential leases from a pool of 10,000 numbers held 60 s, one per
 * statement and three per statement (a placement of three slots), and two
 * pools leasing at once (as two gateways).
 */
export async function pgLeases(pool: PgPool, quick: boolean, print: Print): Promise<void> {
  const N = quick ? 5_000 : 20_000;
  const numbers = Array.from(
    { length: 10_000 },
    (_, i) => `+1415${String(5_000_000 + i).padStart(7, '0')}`,
  );
  const leases = new PgNumberLeases(pool, 'acme', numbers, 60);
  await leases.start();
  let t = Date.now();
  const measure = async (label: string, perStatement: number, workers: number) => {
    // Past every earlier lease: each measure starts with the whole pool free.
    t += 61_000;
    const samples: number[] = [];
    let leased = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let i = 0; i < N / perStatement / workers; i += 1) {
          t += 7 * perStatement;
          const s = performance.now();
          const got = await leases.leaseMany(t, perStatement);
          leased += got.length;
          samples.push(performance.now() - s);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const q = summarize(samples);
    print(
      `leases (PostgreSQL, ${label}): ${Math.round(leased / seconds)} leases/s, ${Math.round(samples.length / seconds)} statements/s, p50 ${q.p50Ms.toFixed(2)} ms, p99 ${q.p99Ms.toFixed(2)} ms per statement (${leased} of ${N} leased)`,
    );
  };
  await measure('one per statement', 1, 1);
  await measure("a placement's three per statement", 3, 1);
  await measure('one per statement, 4 at once', 1, 4);
}
