/**
 * The marketplace's figures (issue 12), one phase per module of
 * `marketplace/`:
 *
 * 1. `auction.ts`: auction decisions per second and their latency with
 *    10,000 listings, then whole placements;
 * 2. `leases.ts`: number leases per second (the LRU pool alone; with
 *    `--postgres`, also the leases agreed in PostgreSQL);
 * 3. `entries.ts`: call-entry matching throughput against 1,000,000 logged
 *    impressions (with `--postgres`, also on PostgreSQL);
 * 4. `ledger.ts`: the ledger under concurrent qualifying calls.
 *
 *   node --import tsx bench/src/marketplace.ts [--quick] [--postgres] [--only auction|leases|entries|ledger]
 *     [--entries-path sets|rows] [--entries-on sqlite|postgres] [--entries-digest]
 *     [--entries-probe] [--entries-cache-mb N] [--entries-parse thread|worker]
 *
 * `--postgres` starts the testkit's PostgreSQL (Debian's) on 127.0.0.1.
 * `--entries-path rows` matches the call entries row-wise (the matcher's
 * batched reads; `sets` by default: a chunk matched as a set, as the gateway
 * does on SQLite and on PostgreSQL); `--entries-on` runs the call entries on
 * one database only (`postgres` starts it without `--postgres`);
 * `--entries-digest` prints a digest of every entry's answer, to compare the
 * two paths on the same data; `--entries-probe` writes on the gateway's
 * connection every 5 ms during the runs and prints how long the writes
 * waited and the event loop's delay (`write-probe.ts`); `--entries-cache-mb`
 * gives SQLite's page cache (`storage.sqliteCacheMb`) another size;
 * `--entries-parse worker` parses the body on a thread of its own
 * (`call-entries/worker-source.ts`; the process's CPU then counts both threads).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startPostgres, type Postgres } from '@parley/testkit';
import { auction } from './marketplace/auction.js';
import { callEntries } from './marketplace/entries.js';
import { treeCpu } from './marketplace/tree-cpu.js';
import { WORKER_FLAG, ledger, ledgerWorker } from './marketplace/ledger.js';
import { leases, pgLeases } from './marketplace/leases.js';
import { calibrate, pgPool } from './marketplace/setup.js';

if (process.argv.includes(WORKER_FLAG)) {
  const [path = '', calls = '0', seed = '1'] = process.argv.slice(
    process.argv.indexOf(WORKER_FLAG) + 1,
  );
  await ledgerWorker(path, Number(calls), Number(seed));
} else {
  await main();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      postgres: { type: 'boolean', default: false },
      only: { type: 'string' },
      'entries-path': { type: 'string', default: 'sets' },
      'entries-digest': { type: 'boolean', default: false },
      'entries-on': { type: 'string', default: '' },
      'entries-probe': { type: 'boolean', default: false },
      'entries-cache-mb': { type: 'string' },
      'entries-parse': { type: 'string', default: 'thread' },
    },
  });
  const quick = values.quick;
  const runs = (name: string) => values.only === undefined || values.only === name;
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-marketplace-'));
  const print = (line: string) => process.stdout.write(`${line}\n`);
  let postgres: Postgres | undefined;
  let databases = 0;
  const database = async () => {
    postgres ??= await startPostgres();
    return await pgPool(await postgres.createDatabase(`mp_bench_${(databases += 1)}`));
  };
  try {
    calibrate(print);
    if (runs('auction')) await auction(dir, quick, print);
    if (runs('leases')) {
      leases(quick, print);
      if (values.postgres) {
        const pool = await database();
        await pgLeases(pool, quick, print).finally(() => pool.end());
      }
    }
    if (runs('entries')) {
      const given = values['entries-path'];
      const path = given === 'rows' ? given : 'sets';
      const digest = values['entries-digest'];
      const on = values['entries-on'];
      const probe = values['entries-probe'];
      const cacheGiven = values['entries-cache-mb'];
      const cacheMb = cacheGiven === undefined ? undefined : Number(cacheGiven);
      const parse = values['entries-parse'] === 'worker' ? 'worker' : 'thread';
      if (on !== 'postgres')
        await callEntries(dir, quick, print, { path, digest, probe, cacheMb, parse });
      if (on === 'postgres' || (values.postgres && on !== 'sqlite')) {
        const pool = await database();
        const pid = postgres?.process.pid;
        const serverCpu = pid === undefined ? undefined : () => treeCpu(pid);
        await callEntries(dir, quick, print, { path, digest, pool, serverCpu, parse }).finally(() =>
          pool.end(),
        );
      }
    }
    if (runs('ledger')) await ledger(dir, quick, print, fileURLToPath(import.meta.url));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await postgres?.stop();
  }
}
