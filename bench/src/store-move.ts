/**
 * `parley-gateway move` of a large marketplace (docs/benchmarks.md, "Moving
 * a SQLite file into PostgreSQL"): a SQLite file with N impressions in its
 * log (default 1,000,000; `--impressions`), moved into a fresh PostgreSQL
 * database by the move's own code (`moveFile` with the marketplace's
 * tables), timed; then moved again with the file's mark removed (every row
 * found there, compared), timed.
 *
 *   nice -n 19 ./scripts/in-netns.sh npx tsx bench/src/store-move.ts [--impressions N]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres } from '@parley/testkit';
import { LEDGER_SCHEMA } from '../../gateway/src/ledger/index.js';
import { MARKETPLACE_SCHEMA, marketplaceMoveTables } from '../../gateway/src/marketplace/index.js';
import { openDatabase } from '../../gateway/src/storage/index.js';
import { moveFile } from '../../gateway/src/storage/postgres/index.js';
import { pgPool } from './marketplace/setup.js';

const { values } = parseArgs({ options: { impressions: { type: 'string' } } });
const N = Number(values.impressions ?? 1_000_000);
const print = (line: string) => process.stdout.write(`${line}\n`);
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-move-'));
const db = openDatabase(join(dir, 'move.sqlite'), [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);

// The log as the marketplace writes it: 30 days, two impressions per device, 5,000 numbers.
const now = Date.now();
let t = performance.now();
const insert = db.prepare(
  `INSERT INTO mp_impressions (id, tenant, placement_id, listing_id, advertiser_id, publisher_id, slot, price, bid, quality,
     device_id, page, number, number_kind, lease_start, lease_end, created_at)
   VALUES (?, 'acme', ?, ?, 'ad', 'pb', 1, 100, 100, 0.75, ?, 'https://news.example/local', ?, 'leased', ?, ?, ?)`,
);
db.transaction(() => {
  for (let i = 0; i < N; i += 1) {
    const start = now - 30 * 86_400_000 + Math.floor((i / N) * 30 * 86_400_000);
    const number = `+1415${String(4_000_000 + (i % 5000)).padStart(7, '0')}`;
    insert.run(
      `im-${i}`,
      `pl-${i}`,
      `ls-${i % 1000}`,
      `dev-${i % (N / 2)}`,
      number,
      start,
      start + 900_000,
      start,
    );
  }
})();
print(`${N} impressions logged in SQLite in ${((performance.now() - t) / 1000).toFixed(1)} s`);

const postgres = await startPostgres();
const pool = await pgPool(await postgres.createDatabase('move_bench'));
try {
  const timed = async (label: string) => {
    t = performance.now();
    await moveFile(db, pool, 'bench', [['marketplace', marketplaceMoveTables('bench')]], (line) =>
      print(`  ${line}`),
    );
    const s = (performance.now() - t) / 1000;
    print(`${label}: ${s.toFixed(1)} s, ${Math.round(N / s)} impressions/s`);
  };
  await timed('move (every row copied)');
  // Both records of the move removed: every row compared.
  db.exec('DELETE FROM store_moves; DELETE FROM store_move_tables');
  await pool.query('DELETE FROM store_moves');
  await timed('move again, mark removed (every row found equal)');
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM mp_impressions');
  print(`PostgreSQL holds ${rows[0]?.n} impressions`);
} finally {
  await pool.end();
  await postgres.stop();
  db.close();
}
