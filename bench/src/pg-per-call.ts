/**
 * What PostgreSQL sees per call (issue 16: "the database operations per
 * call"): a gateway on `storage.kind: postgres` (the testkit's PostgreSQL
 * from Debian), sipp visitors with call tokens bridged to a baresip agent,
 * and the server's own counters (`pg_stat_database`: transactions, rows
 * inserted, updated, fetched) read before and after, divided by the calls.
 * Each visitor is a new web session (a session row and a number lease).
 * The gateway also shares a Redis (the testkit's, from Debian), as a cluster's
 * gateways do: its commands per call, by operation, are read from the
 * gateway's own counter (`parley_shared_redis_ops_total`).
 *
 * With `--by-statement` PostgreSQL also loads pg_stat_statements and the
 * statements are listed by rows per call (where the rows come from), and
 * `sessions` counts the connections opened (a new connection reads the
 * system catalogues, which pg_stat_database counts as rows fetched).
 *
 *   ./scripts/in-netns.sh node --import tsx bench/src/pg-per-call.ts [--calls 30] [--by-statement]
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startTestGateway } from '@parley/gateway/test-harness';
import {
  bundledScenario,
  runSipp,
  startBaresipAgent,
  startPostgres,
  startRedis,
  stopAll,
} from '@parley/testkit';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '30' },
    'by-statement': { type: 'boolean', default: false },
  },
});
const calls = Number(values.calls);
const byStatement = values['by-statement'];

interface Counters {
  xact_commit: number;
  tup_inserted: number;
  tup_updated: number;
  tup_fetched: number;
  tup_returned: number;
  sessions: number;
}

const [postgres, redis] = await Promise.all([
  startPostgres(
    byStatement
      ? {
          settings: {
            shared_preload_libraries: 'pg_stat_statements',
            'pg_stat_statements.track': 'all',
          },
        }
      : {},
  ),
  startRedis(),
]);
const url = await postgres.createDatabase('parley_bench');
const client = new pg.Client({ connectionString: url });
await client.connect();
if (byStatement) await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
const counters = async (): Promise<Counters> => {
  // The statistics collector reports with a delay: clear this backend's snapshot first.
  await client.query('SELECT pg_stat_clear_snapshot()');
  const row = await client.query<Record<keyof Counters, string>>(
    'SELECT xact_commit, tup_inserted, tup_updated, tup_fetched, tup_returned, sessions FROM pg_stat_database WHERE datname = current_database()',
  );
  const r = row.rows[0]!;
  return {
    xact_commit: Number(r.xact_commit),
    tup_inserted: Number(r.tup_inserted),
    tup_updated: Number(r.tup_updated),
    tup_fetched: Number(r.tup_fetched),
    tup_returned: Number(r.tup_returned),
    sessions: Number(r.sessions),
  };
};

const gw = await startTestGateway({
  agents: [{ id: 'agent1' }],
  config: {
    storage: { path: ':memory:', kind: 'postgres' as const, postgres: { url } },
    shared: { instanceId: 'bench-gw', redis: { url: redis.url } },
  },
});
/** The gateway's Redis commands so far, by operation. */
const redisOps = async (): Promise<Map<string, number>> => {
  const metric = await gw.gateway.metrics.registry
    .getSingleMetric('parley_shared_redis_ops_total')
    ?.get();
  return new Map((metric?.values ?? []).map((v) => [String(v.labels.op), v.value]));
};
const agent = await startBaresipAgent({ user: 'agent1', password: 'secret', registrar: gw.udp });
try {
  await agent.registered();
  const tokens = await Promise.all(
    Array.from({ length: calls }, (_, i) => gw.token({ subject: `bench-pg-${i}` })),
  );
  // pg_stat_database is flushed by each backend at the end of its transactions, at most every
  // 500 ms (PGSTAT_MIN_INTERVAL): wait past that before each reading.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const before = await counters();
  if (byStatement) await client.query('SELECT pg_stat_statements_reset()');
  const redisBefore = await redisOps();
  const started = Date.now();
  console.error(`placing ${calls} calls with sipp, one a second (about ${calls} s)`);
  const result = await runSipp({
    scenario: await bundledScenario('uac-bearer-pcmu'),
    remote: gw.udp,
    service: 'sales',
    calls,
    rate: 1,
    callDurationMs: 500,
    injection: { rows: tokens.map((t) => [t]) },
    timeoutMs: 120_000,
  });
  for (let i = 0; i < 200 && gw.gateway.calls.size > 0; i += 1)
    await new Promise((r) => setTimeout(r, 100));
  const redisAfter = await redisOps();
  const seconds = (Date.now() - started) / 1000;
  await gw.close();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const after = await counters();
  const ok = result.stats.successful;
  const statements = byStatement
    ? (
        await client.query<{ query: string; calls: string; rows: string }>(
          `SELECT query, calls, rows FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
           WHERE d.datname = current_database() AND query NOT ILIKE '%pg_stat%'
           ORDER BY calls DESC LIMIT 25`,
        )
      ).rows
    : [];
  const per = (key: keyof Counters) => ((after[key] - before[key]) / ok).toFixed(1);
  console.log(`calls: ${ok} of ${calls} successful (${new Date().toISOString()})`);
  console.log(
    '| per call | transactions | rows inserted | rows updated | rows fetched | rows returned | connections opened |',
  );
  console.log('|---|---|---|---|---|---|---|');
  console.log(
    `| PostgreSQL (pg_stat_database) | ${per('xact_commit')} | ${per('tup_inserted')} | ${per('tup_updated')} | ${per('tup_fetched')} | ${per('tup_returned')} | ${after.sessions - before.sessions} in all |`,
  );
  const tables = byStatement
    ? (
        await client.query<Record<string, string>>(
          `SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, seq_tup_read, idx_tup_fetch
           FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del + seq_tup_read + coalesce(idx_tup_fetch, 0) > 0
           ORDER BY relname`,
        )
      ).rows
    : [];
  if (tables.length > 0) {
    // pg_stat_database also counts the system catalogues (autovacuum's ANALYZE writes
    // pg_statistic rows, a new connection reads the catalogues): the user tables alone.
    console.log('\nUser tables (pg_stat_user_tables, whole run incl. setup), per call:');
    console.log('| table | inserted | updated | deleted | seq rows read | index rows fetched |');
    console.log('|---|---|---|---|---|---|');
    for (const t of tables) {
      const f = (k: string) => (Number(t[k] ?? 0) / ok).toFixed(2);
      console.log(
        `| ${t['relname']} | ${f('n_tup_ins')} | ${f('n_tup_upd')} | ${f('n_tup_del')} | ${f('seq_tup_read')} | ${f('idx_tup_fetch')} |`,
      );
    }
  }
  if (statements.length > 0) {
    console.log('\nStatements by how often they ran (pg_stat_statements), per call:');
    console.log('| statement | runs | rows |');
    console.log('|---|---|---|');
    for (const s of statements)
      console.log(
        `| \`${s.query.replace(/\s+/g, ' ').slice(0, 110)}\` | ${(Number(s.calls) / ok).toFixed(2)} | ${(Number(s.rows) / ok).toFixed(2)} |`,
      );
  }
  // Heartbeat work (leases, renewals, the lost-gateway sweep) runs per second, not per call.
  console.log(
    `\nRedis commands over ${seconds.toFixed(0)} s, per call (heartbeat ones also per second):`,
  );
  console.log('| operation | per call | per second |');
  console.log('|---|---|---|');
  let total = 0;
  for (const [op, value] of [...redisAfter].sort()) {
    const n = value - (redisBefore.get(op) ?? 0);
    if (n === 0) continue;
    total += n;
    console.log(`| ${op} | ${(n / ok).toFixed(2)} | ${(n / seconds).toFixed(2)} |`);
  }
  console.log(`| all | ${(total / ok).toFixed(2)} | ${(total / seconds).toFixed(2)} |`);
} finally {
  await agent.stop();
  await gw.close();
  await client.end();
  await Promise.all([postgres.stop(), redis.stop()]);
  await stopAll();
}
