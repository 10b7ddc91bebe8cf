/**
 * The marketplace's figures (issue 12):
 *
 * 1. auction decisions per second and their latency with 10,000 listings
 *    (eligibility from the in-memory index, rank by bid × quality, GSP prices),
 *    in one category (the worst case: every listing is a candidate) and spread
 *    over 20 categories × 5 regions; then whole placements (auction, number
 *    leases, the decision and impressions logged in SQLite on a file);
 * 2. number leases per second (the LRU pool alone);
 * 3. call-entry matching throughput against 1,000,000 logged impressions
 *    (CSV streamed through the same reader, matcher and SQLite writes as
 *    `POST /v1/call-entries`; JSON and NDJSON beside it);
 * 4. the ledger under concurrent qualifying calls: processes on the same
 *    SQLite file qualify the same calls in different orders; every call must be
 *    charged exactly once and the books must balance.
 *
 *   node --import tsx bench/src/marketplace.ts [--quick] [--only auction|leases|entries|ledger]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../gateway/src/config/schema.js';
import { LEDGER_SCHEMA, SqliteLedgerStore } from '../../gateway/src/ledger/index.js';
import { runAuction } from '../../gateway/src/marketplace/auction.js';
import { ingest } from '../../gateway/src/marketplace/call-entries/ingest.js';
import {
  readEntries,
  type BodyFormat,
} from '../../gateway/src/marketplace/call-entries/sources.js';
import {
  MARKETPLACE_SCHEMA,
  Marketplace,
  type Advertiser,
} from '../../gateway/src/marketplace/index.js';
import { TrackingNumberPool } from '../../gateway/src/marketplace/number-pool.js';
import { createLogger } from '../../gateway/src/observability/index.js';
import { openDatabase, type SqliteDatabase } from '../../gateway/src/storage/index.js';
import { summarize } from './latency-stats.js';

const logger = createLogger('silent');
const environment = {
  tenantExists: (t: string) => t === 'acme',
  queueTenant: (q: string) => (q === 'sales' ? 'acme' : undefined),
  agentTenant: () => undefined,
};

/** `start` loads the index and runs crash recovery: once per file, never in the ledger's racing processes. */
async function marketplaceOn(
  db: SqliteDatabase,
  input: Record<string, unknown> = {},
  start = true,
): Promise<Marketplace> {
  const m = new Marketplace({
    db,
    config: configSchema.shape.marketplace.parse(input),
    environment,
    logger,
  });
  if (start) await m.start();
  return m;
}

const WORKER_FLAG = '--ledger-worker';

if (process.argv.includes(WORKER_FLAG)) {
  // A process of the ledger benchmark: qualifies every call in its own order.
  const [path = '', calls = '0', seed = '1'] = process.argv.slice(
    process.argv.indexOf(WORKER_FLAG) + 1,
  );
  await ledgerWorker(path, Number(calls), Number(seed));
} else {
  await main();
}

async function ledgerWorker(path: string, calls: number, seed: number): Promise<void> {
  const db = openDatabase(path, [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const m = await marketplaceOn(db, {}, false);
  await m.registry.load(m.index.today(Date.now()));
  const order = Array.from({ length: calls }, (_, i) => i);
  let s = seed;
  for (let i = order.length - 1; i > 0; i -= 1) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
  }
  process.stdout.write('ready\n');
  process.stdin.once('data', async () => {
    const t0 = performance.now();
    let charged = 0;
    let duplicate = 0;
    for (const i of order) {
      const r = await m.billing.qualify(`bench-${i}`, Date.now());
      if (r.status === 'charged') charged += 1;
      else if (r.status === 'duplicate') duplicate += 1;
    }
    m.close();
    db.close();
    process.stdout.write(`${JSON.stringify({ charged, duplicate, ms: performance.now() - t0 })}\n`);
    process.exit(0);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
  });
  const quick = values.quick;
  const runs = (name: string) => values.only === undefined || values.only === name;
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-marketplace-'));
  const print = (line: string) => process.stdout.write(`${line}\n`);
  try {
    calibrate(print);
    if (runs('auction')) await auction(dir, quick, print);
    if (runs('leases')) leases(quick, print);
    if (runs('entries')) await callEntries(dir, quick, print);
    if (runs('ledger')) await ledger(dir, quick, print);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A gauge of the machine at the time of the run (it is shared, and its speed
 * moves with the load): SQLite primary-key lookups per second on an
 * in-memory table of 100,000 rows, with the load average.
 */
function calibrate(print: (l: string) => void): void {
  const db = openDatabase(':memory:');
  db.exec('CREATE TABLE gauge (id TEXT PRIMARY KEY, v INTEGER)');
  const insert = db.prepare('INSERT INTO gauge VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 100_000; i += 1) insert.run(`k${i}`, i);
  })();
  const get = db.prepare('SELECT * FROM gauge WHERE id = ?');
  const start = performance.now();
  for (let i = 0; i < 100_000; i += 1) get.get(`k${(i * 7919) % 100_000}`);
  const rate = 100_000 / ((performance.now() - start) / 1000);
  print(
    `machine gauge: ${Math.round(rate)} SQLite key lookups/s, load average ${loadavg()[0]?.toFixed(1)}`,
  );
  db.close();
}

async function auction(dir: string, quick: boolean, print: (l: string) => void): Promise<void> {
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

function leases(quick: boolean, print: (l: string) => void): void {
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

async function callEntries(dir: string, quick: boolean, print: (l: string) => void): Promise<void> {
  const IMPRESSIONS = quick ? 100_000 : 1_000_000;
  const ENTRIES = quick ? 20_000 : 200_000;
  const path = join(dir, 'entries.sqlite');
  const db = openDatabase(path, [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const m = await marketplaceOn(db, {
    tenants: { acme: { callEntries: { rule: 'time', windowSeconds: 3600 } } },
  });
  const now = Date.now();
  const insert = db.prepare(
    `INSERT INTO mp_impressions (id, tenant, placement_id, listing_id, advertiser_id, publisher_id, slot, price, bid, quality,
       device_id, page, number, number_kind, lease_start, lease_end, created_at)
     VALUES (?, 'acme', ?, ?, 'ad', 'pb', 1, 100, 100, 1, ?, NULL, ?, 'leased', ?, ?, ?)`,
  );
  const devices = IMPRESSIONS / 2;
  const t0 = performance.now();
  const starts: number[] = [];
  db.transaction(() => {
    for (let i = 0; i < IMPRESSIONS; i += 1) {
      // 30 days of impressions, two per device; numbers from a pool of 5,000.
      const start = now - 30 * 86_400_000 + Math.floor((i / IMPRESSIONS) * 30 * 86_400_000);
      starts.push(start);
      insert.run(
        `im-${i}`,
        `pl-${i}`,
        `ls-${i % 1000}`,
        `dev-${i % devices}`,
        `+1415${String(4_000_000 + (i % 5000)).padStart(7, '0')}`,
        start,
        start + 900_000,
        start,
      );
    }
  })();
  print(
    `call entries: ${IMPRESSIONS} impressions logged in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const body = (format: BodyFormat, count: number, offset: number): string[] => {
    const lines: string[] = [];
    if (format === 'csv') lines.push('id,deviceId,startedAt,durationSeconds,data.campaign');
    for (let k = 0; k < count; k += 1) {
      const i = (k * 7919) % IMPRESSIONS;
      const kind = k % 10; // 7 matched, 2 unknown devices, 1 outside the window
      const device = kind < 9 ? `dev-${i % devices}` : `nobody-${k}`;
      const startedAt =
        (starts[i] ?? now) + (kind === 7 ? 2 * 3_600_000 : 60_000 + (k % 1000) * 1000);
      const id = `${format}-${offset + k}`;
      const iso = new Date(startedAt).toISOString();
      lines.push(
        format === 'csv'
          ? `${id},${device},${iso},${30 + (k % 300)},spring`
          : JSON.stringify({
              id,
              deviceId: device,
              startedAt: iso,
              durationSeconds: 30 + (k % 300),
              data: { campaign: 'spring' },
            }),
      );
    }
    const text = format === 'json' ? `[${lines.join(',')}]` : `${lines.join('\n')}\n`;
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 65_536) chunks.push(text.slice(i, i + 65_536));
    return chunks;
  };
  const run = async (format: BodyFormat, count: number, offset: number) => {
    const chunks = body(format, count, offset);
    const start = performance.now();
    const results = ingest(readEntries(Readable.from(chunks), format), {
      matcher: m.entries,
      tenant: 'acme',
      threshold: m.threshold('acme'),
      now: () => Date.now(),
    });
    let step = await results.next();
    while (!step.done) step = await results.next();
    const seconds = (performance.now() - start) / 1000;
    const { summary } = step.value;
    print(
      `call entries (${format}): ${Math.round(count / seconds)} entries/s against ${IMPRESSIONS} impressions (${count} entries: ${summary.matched} matched, ${summary.unmatched} unmatched, ${summary.duplicate} duplicate, ${summary.invalid} invalid)`,
    );
  };
  await run('csv', ENTRIES, 0);
  await run('ndjson', ENTRIES / 4, ENTRIES);
  await run('json', ENTRIES / 4, 2 * ENTRIES);
  m.close();
  db.close();
}

function expect(wanted: string, got: string): void {
  if (got !== wanted) throw new Error(`a ledger worker said ${got}, not ${wanted}`);
}

async function ledger(dir: string, quick: boolean, print: (l: string) => void): Promise<void> {
  const CALLS = quick ? 2_000 : 20_000;
  const WORKERS = 4;
  const path = join(dir, 'ledger.sqlite');
  const db = openDatabase(path, [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const m = await marketplaceOn(db);
  const advertiser = await m.registry.createAdvertiser(undefined, {
    tenant: 'acme',
    name: 'A',
    initialBalanceCents: 1e10,
  });
  const publisher = await m.registry.createPublisher(undefined, {
    tenant: 'acme',
    name: 'P',
    origins: ['https://p.example'],
  });
  const listing = m.registry.createListing(undefined, {
    advertiserId: advertiser.id,
    title: 'L',
    category: 'plumbing',
    destination: { kind: 'queue', queue: 'sales' },
    bidCents: 1000,
    dailyBudgetCents: 1e9,
    qualification: { minConnectedSeconds: 1 },
  });
  const now = Date.now();
  const row = db.prepare(
    `INSERT INTO mp_calls (call_id, tenant, kind, listing_id, advertiser_id, publisher_id, price, min_connected_seconds, day, started_at, connected_at, qualifies_at)
     VALUES (?, 'acme', 'tracked', ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
  );
  const day = m.index.today(now);
  db.transaction(() => {
    for (let i = 0; i < CALLS; i += 1)
      row.run(
        `bench-${i}`,
        listing.id,
        advertiser.id,
        publisher.id,
        500 + (i % 500),
        day,
        now - 5000,
        now - 2000,
        now - 1000,
      );
  })();
  m.close();
  db.close();
  // Processes, not threads: each has its own connection, as gateways sharing a file would.
  const workers = Array.from({ length: WORKERS }, (_, w) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        WORKER_FLAG,
        path,
        String(CALLS),
        String(w + 1),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    return { child, next: async () => String((await lines.next()).value) };
  });
  for (const w of workers) expect('ready', await w.next());
  const start = performance.now();
  for (const w of workers) w.child.stdin.write('go\n');
  const results = (await Promise.all(workers.map((w) => w.next()))).map(
    (line) => JSON.parse(line) as { charged: number; duplicate: number; ms: number },
  );
  const seconds = (performance.now() - start) / 1000;
  const check = openDatabase(path, [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const books = new SqliteLedgerStore(check);
  const charges = check
    .prepare<[], { n: number; keys: number }>(
      "SELECT COUNT(*) AS n, COUNT(DISTINCT key) AS keys FROM ledger_transactions WHERE kind = 'charge'",
    )
    .get();
  const expected = Array.from({ length: CALLS }, (_, i) => 500 + (i % 500)).reduce(
    (a, b) => a + b,
    0,
  );
  const spent = 1e10 - (books.account(`advertiser:${advertiser.id}`)?.balance ?? 0);
  const problems = books.verify();
  check.close();
  const charged = results.reduce((a, r) => a + r.charged, 0);
  const duplicate = results.reduce((a, r) => a + r.duplicate, 0);
  print(
    `ledger: ${WORKERS} processes qualified the same ${CALLS} calls at once: ${charged} charged, ${duplicate} duplicates, ` +
      `${charges?.n} charge transactions (${charges?.keys} keys), spent ${spent} of ${expected} expected, ` +
      `${problems.length} problems; ${Math.round(CALLS / seconds)} charges/s (${Math.round((CALLS * WORKERS) / seconds)} qualify calls/s)`,
  );
  if (charged !== CALLS || charges?.n !== CALLS || spent !== expected || problems.length > 0)
    throw new Error('the ledger lost or doubled a charge');
}
