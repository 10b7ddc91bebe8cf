/**
 * What PostgreSQL sees per call (issue 16: "the database operations per
 * call"): a gateway on `storage.kind: postgres` (the testkit's PostgreSQL
 * from Debian), sipp visitors with call tokens bridged to a baresip agent,
 * and the server's own counters (`pg_stat_database`: transactions, rows
 * inserted, updated, fetched) read before and after, divided by the calls.
 * Each visitor is a new web session (a session row and a number lease).
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

const postgres = await startPostgres();
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
  config: { storage: { path: ':memory:', kind: 'postgres' as const, postgres: { url } } },
});
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
} finally {
  await agent.stop();
  await gw.close();
  await client.end();
  await postgres.stop();
  await stopAll();
}
