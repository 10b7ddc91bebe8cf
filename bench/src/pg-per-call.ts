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
 *   ./scripts/in-netns.sh node --import tsx bench/src/pg-per-call.ts [--calls 30]
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

const { values } = parseArgs({ options: { calls: { type: 'string', default: '30' } } });
const calls = Number(values.calls);

interface Counters {
  xact_commit: number;
  tup_inserted: number;
  tup_updated: number;
  tup_fetched: number;
  tup_returned: number;
}

const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
const url = await postgres.createDatabase('parley_bench');
const client = new pg.Client({ connectionString: url });
await client.connect();
const counters = async (): Promise<Counters> => {
  // The statistics collector reports with a delay: clear this backend's snapshot first.
  await client.query('SELECT pg_stat_clear_snapshot()');
  const row = await client.query<Record<keyof Counters, string>>(
    'SELECT xact_commit, tup_inserted, tup_updated, tup_fetched, tup_returned FROM pg_stat_database WHERE datname = current_database()',
  );
  const r = row.rows[0]!;
  return {
    xact_commit: Number(r.xact_commit),
    tup_inserted: Number(r.tup_inserted),
    tup_updated: Number(r.tup_updated),
    tup_fetched: Number(r.tup_fetched),
    tup_returned: Number(r.tup_returned),
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
  const per = (key: keyof Counters) => ((after[key] - before[key]) / ok).toFixed(1);
  console.log(`calls: ${ok} of ${calls} successful (${new Date().toISOString()})`);
  console.log(
    '| per call | transactions | rows inserted | rows updated | rows fetched | rows returned |',
  );
  console.log('|---|---|---|---|---|---|');
  console.log(
    `| PostgreSQL (pg_stat_database) | ${per('xact_commit')} | ${per('tup_inserted')} | ${per('tup_updated')} | ${per('tup_fetched')} | ${per('tup_returned')} |`,
  );
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
