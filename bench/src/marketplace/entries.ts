/**
 * Phase 3: call-entry matching throughput against 1,000,000 logged
 * impressions (CSV streamed through the same reader, matcher and writes as
 * `POST /v1/call-entries`; JSON and NDJSON beside it), on SQLite or, with
 * `pool`, on PostgreSQL (the impression log and the entries the cluster's).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LEDGER_SCHEMA } from '../../../gateway/src/ledger/index.js';
import { ingest } from '../../../gateway/src/marketplace/call-entries/ingest.js';
import { CallEntryMatcher } from '../../../gateway/src/marketplace/call-entries/matcher.js';
import {
  readEntries,
  type BodyFormat,
} from '../../../gateway/src/marketplace/call-entries/sources.js';
import { readEntriesInThread } from '../../../gateway/src/marketplace/call-entries/worker-source.js';
import { MARKETPLACE_SCHEMA } from '../../../gateway/src/marketplace/index.js';
import { openDatabase, type SqliteDatabase } from '../../../gateway/src/storage/index.js';
import type { PgPool } from '../../../gateway/src/storage/postgres/index.js';
import { marketplaceOn, type Print } from './setup.js';
import { probeLine, startWriteProbe } from './write-probe.js';

/** One logged impression of the benchmark's log. */
interface Logged {
  id: string;
  placement: string;
  listing: string;
  device: string;
  number: string;
  start: number;
}

/** 30 days of impressions, two per device; numbers from a pool of 5,000. */
function* impressions(count: number, now: number): Generator<Logged> {
  const devices = count / 2;
  for (let i = 0; i < count; i += 1) {
    const start = now - 30 * 86_400_000 + Math.floor((i / count) * 30 * 86_400_000);
    yield {
      id: `im-${i}`,
      placement: `pl-${i}`,
      listing: `ls-${i % 1000}`,
      device: `dev-${i % devices}`,
      number: `+1415${String(4_000_000 + (i % 5000)).padStart(7, '0')}`,
      start,
    };
  }
}

function logSqlite(db: SqliteDatabase, log: Iterable<Logged>): number[] {
  const insert = db.prepare(
    `INSERT INTO mp_impressions (id, tenant, placement_id, listing_id, advertiser_id, publisher_id, slot, price, bid, quality,
       device_id, page, number, number_kind, lease_start, lease_end, created_at)
     VALUES (?, 'acme', ?, ?, 'ad', 'pb', 1, 100, 100, 1, ?, NULL, ?, 'leased', ?, ?, ?)`,
  );
  const starts: number[] = [];
  db.transaction(() => {
    for (const i of log) {
      starts.push(i.start);
      insert.run(
        i.id,
        i.placement,
        i.listing,
        i.device,
        i.number,
        i.start,
        i.start + 900_000,
        i.start,
      );
    }
  })();
  return starts;
}

/** The same log in PostgreSQL, 10,000 rows per statement. */
async function logPostgres(pool: PgPool, log: Iterable<Logged>): Promise<number[]> {
  const starts: number[] = [];
  let batch: Logged[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const col = <K extends keyof Logged>(k: K) => batch.map((i) => i[k]);
    await pool.query(
      `INSERT INTO mp_impressions (id, tenant, placement_id, listing_id, advertiser_id, publisher_id, slot, price, bid,
         quality, device_id, page, number, number_kind, lease_start, lease_end, created_at)
       SELECT i.id, 'acme', i.placement, i.listing, 'ad', 'pb', 1, 100, 100, 1, i.device, NULL, i.number, 'leased',
         i.start, i.start + 900000, i.start
       FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::BIGINT[])
         AS i(id, placement, listing, device, number, start)`,
      [col('id'), col('placement'), col('listing'), col('device'), col('number'), col('start')],
    );
    batch = [];
  };
  for (const i of log) {
    starts.push(i.start);
    batch.push(i);
    if (batch.length >= 10_000) await flush();
  }
  await flush();
  // VACUUM too: otherwise autovacuum visits the freshly written log during the first run and
  // its CPU is counted in the server's (the postmaster's children).
  await pool.query('VACUUM (ANALYZE) mp_impressions');
  return starts;
}

/** The gateway's (main) thread's CPU so far in µs, apart from any worker's (Linux: its schedstat). */
function mainThreadCpu(): number | undefined {
  try {
    const ns = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0];
    return Number(ns) / 1000;
  } catch {
    return undefined;
  }
}

export interface EntriesOptions {
  /**
   * `rows`: the row-wise matcher (batched reads); `sets`: the gateway's (a
   * chunk matched as a set, in the gateway's thread).
   */
  readonly path: 'sets' | 'rows';
  /** `worker`: the body parsed on a thread of its own (`worker-source.ts`); `thread` (default): in the gateway's. */
  readonly parse?: 'thread' | 'worker';
  /** Write on the gateway's connection every 5 ms meanwhile, and time each write and the event loop (`write-probe.ts`). */
  readonly probe?: boolean;
  /** SQLite's page cache in MB (`storage.sqliteCacheMb`), when not the gateway's default. */
  readonly cacheMb?: number | undefined;
  /** Print a digest of every entry's answer (the two paths must agree byte for byte). */
  readonly digest: boolean;
  readonly pool?: PgPool;
  /** The database server's CPU so far in µs (PostgreSQL: the postmaster's and its backends'), beside the gateway's. */
  readonly serverCpu?: () => number;
}

export async function callEntries(
  dir: string,
  quick: boolean,
  print: Print,
  o: EntriesOptions,
): Promise<void> {
  const pool = o.pool;
  const IMPRESSIONS = quick ? 100_000 : 1_000_000;
  const ENTRIES = quick ? 20_000 : 200_000;
  const where = `${pool ? 'PostgreSQL' : 'SQLite'}, ${o.path}${o.parse === 'worker' ? ', parsed on a worker' : ''}`;
  const db = openDatabase(
    join(dir, pool ? 'entries-pg.sqlite' : 'entries.sqlite'),
    [LEDGER_SCHEMA, MARKETPLACE_SCHEMA],
    o.cacheMb === undefined ? {} : { cacheMb: o.cacheMb },
  );
  const m = await marketplaceOn(
    db,
    { tenants: { acme: { callEntries: { rule: 'time', windowSeconds: 3600 } } } },
    true,
    pool,
  );
  const matcher = o.path === 'rows' ? new CallEntryMatcher(m.impressions, m.entryStore) : m.entries;
  // The matcher alone (reads, matching, writes; not the parsing), timed per chunk. With one
  // chunk in flight, its wall time and the process's CPU meanwhile include the next chunk's reading.
  const inMatcher = { wall: 0, cpu: 0, server: 0, chunks: [] as number[] };
  const processChunk = matcher.processChunk.bind(matcher);
  matcher.processChunk = async (...args) => {
    const start = performance.now();
    const cpu = process.cpuUsage();
    const server = o.serverCpu?.() ?? 0;
    try {
      return await processChunk(...args);
    } finally {
      const used = process.cpuUsage(cpu);
      inMatcher.chunks.push(performance.now() - start);
      inMatcher.wall += performance.now() - start;
      inMatcher.cpu += used.user + used.system;
      inMatcher.server += (o.serverCpu?.() ?? 0) - server;
    }
  };
  const now = Date.now();
  const devices = IMPRESSIONS / 2;
  const t0 = performance.now();
  const starts = pool
    ? await logPostgres(pool, impressions(IMPRESSIONS, now))
    : logSqlite(db, impressions(IMPRESSIONS, now));
  print(
    `call entries (${where}): ${IMPRESSIONS} impressions logged in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
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
    // CPU time beside the wall clock: on a shared machine it moves less with the load.
    const cpu = process.cpuUsage();
    const mainCpu = mainThreadCpu();
    inMatcher.wall = 0;
    inMatcher.cpu = 0;
    inMatcher.server = 0;
    inMatcher.chunks = [];
    const probe = pool || !o.probe ? undefined : startWriteProbe(db);
    const hash = o.digest ? createHash('sha256') : undefined;
    // The body's 64 KiB pieces as a socket gives them: the event loop turns between two.
    async function* arriving(): AsyncGenerator<string> {
      for (const piece of chunks) {
        yield piece;
        await new Promise(setImmediate);
      }
    }
    const source =
      o.parse === 'worker'
        ? readEntriesInThread(Readable.from(arriving()), format)
        : readEntries(Readable.from(arriving()), format);
    const results = ingest(source, {
      matcher,
      tenant: 'acme',
      threshold: m.threshold('acme'),
      now: () => Date.now(),
    });
    let step = await results.next();
    while (!step.done) {
      hash?.update(`${JSON.stringify(step.value)}\n`);
      step = await results.next();
    }
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    const mainUsed = mainCpu === undefined ? undefined : (mainThreadCpu() ?? 0) - mainCpu;
    const probed = probe?.();
    const perChunk = inMatcher.chunks.sort((a, b) => a - b);
    const { summary } = step.value;
    print(
      `call entries (${where}, ${format}): ${Math.round(count / seconds)} entries/s, ${((used.user + used.system) / count).toFixed(1)} µs CPU an entry${mainUsed === undefined ? '' : ` (the gateway's thread ${(mainUsed / count).toFixed(1)})`}, against ${IMPRESSIONS} impressions (${count} entries: ${summary.matched} matched, ${summary.unmatched} unmatched, ${summary.duplicate} duplicate, ${summary.invalid} invalid); matcher alone ${((inMatcher.wall * 1000) / count).toFixed(1)} µs an entry (${(inMatcher.cpu / count).toFixed(1)} µs CPU${o.serverCpu ? `, and the server's ${(inMatcher.server / count).toFixed(1)} µs` : ''})${hash ? `; answers ${hash.digest('hex').slice(0, 16)}` : ''}; ${perChunk.length} chunks, each ${(perChunk[perChunk.length >> 1] ?? 0).toFixed(1)} ms (median), ${(perChunk[perChunk.length - 1] ?? 0).toFixed(1)} ms (largest)${probed ? `; ${probeLine(probed)}` : ''}`,
    );
  };
  await run('csv', ENTRIES, 0);
  await run('ndjson', ENTRIES / 4, ENTRIES);
  await run('json', ENTRIES / 4, 2 * ENTRIES);
  m.close();
  db.close();
}
