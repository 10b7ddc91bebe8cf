/**
 * Phase 4: the ledger under concurrent qualifying calls: processes on the
 * same SQLite file qualify the same calls in different orders; every call
 * must be charged exactly once and the books must balance.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LEDGER_SCHEMA, SqliteLedgerStore } from '../../../gateway/src/ledger/index.js';
import { MARKETPLACE_SCHEMA } from '../../../gateway/src/marketplace/index.js';
import { openDatabase } from '../../../gateway/src/storage/index.js';
import { marketplaceOn, type Print } from './setup.js';

/** The flag the benchmark's entry point runs a ledger worker with. */
export const WORKER_FLAG = '--ledger-worker';

/** A process of the ledger benchmark: qualifies every call in its own order. */
export async function ledgerWorker(path: string, calls: number, seed: number): Promise<void> {
  const db = openDatabase(path, [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  const m = await marketplaceOn(db, {}, false);
  await m.registry.load(m.index.today(Date.now()), m.reports);
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

function expect(wanted: string, got: string): void {
  if (got !== wanted) throw new Error(`a ledger worker said ${got}, not ${wanted}`);
}

/** `entry`: the benchmark's entry point, run again as each worker (with {@link WORKER_FLAG}). */
export async function ledger(
  dir: string,
  quick: boolean,
  print: Print,
  entry: string,
): Promise<void> {
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
      ['--import', 'tsx', entry, WORKER_FLAG, path, String(CALLS), String(w + 1)],
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
