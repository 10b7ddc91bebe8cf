/**
 * Routing decision time (issue #5): the customer's value from two provider
 * endpoints that answer in 20 ms (served here over real HTTP), Parley's own
 * history from SQLite, the tenant's weighted algorithm, then the ranking of
 * 1,000 agents of the queue. p50/p99 over sequential decisions and under
 * 20 concurrent ones.
 *
 *   node --import tsx bench/src/routing.ts [--decisions 400]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createLogger } from '../../gateway/src/observability/index.js';
import { AgentDirectory } from '../../gateway/src/agents/index.js';
import {
  ValueService,
  customerHistory,
  rankCandidates,
  weightedAlgorithm,
  type QueueRouting,
} from '../../gateway/src/routing/index.js';
import { SqliteCallStore, openDatabase } from '../../gateway/src/storage/index.js';

const { values } = parseArgs({
  options: {
    decisions: { type: 'string', default: '400' },
    agents: { type: 'string', default: '1000' },
  },
});
const DECISIONS = Number(values.decisions);
const AGENTS = Number(values.agents);

const provider = createServer((req, res) => {
  req.resume();
  req.on('end', () =>
    setTimeout(
      () => res.setHeader('content-type', 'application/json').end(JSON.stringify({ score: 120 })),
      20,
    ),
  );
});
await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;

const db = openDatabase(':memory:');
const store = new SqliteCallStore(db);
// Some history for the customers, so the history lookup does real work.
for (let i = 0; i < 2000; i += 1) {
  store.insert({
    id: `c${i}`,
    tenant: 'acme',
    sessionId: `s${i % 300}`,
    sessionNumber: '+15550100',
    numberFallback: false,
    customerId: `C-${i % 300}`,
    queue: 'sales',
    origin: 'https://a.test',
    visitorCallId: `v${i}`,
    visitorTransport: 'WS',
    visitorSource: '127.0.0.1:1',
    agentCallId: null,
    agentId: null,
    state: 'ended',
    outcome: 'answered',
    endedBy: 'visitor',
    sipStatus: 200,
    reason: null,
    attempts: [],
    dialogs: [],
    media: null,
    routing: null,
    createdAt: Date.now() - i * 60_000,
    ringingAt: null,
    answeredAt: Date.now() - i * 60_000 + 5000,
    endedAt: Date.now() - i * 60_000 + 65_000,
  });
}

const tiers = ['senior', 'junior', 'trainee'];
const directory = new AgentDirectory(
  Array.from({ length: AGENTS }, (_, i) => ({
    id: `a${i}`,
    tenant: 'acme',
    password: 'x',
    queues: ['sales'],
    maxCalls: 1,
    tier: tiers[i % 3],
    contact: `sip:a${i}@127.0.0.1:5070`,
  })),
);
const routing: QueueRouting = {
  strategy: 'sequential',
  ringAtOnce: 1,
  bands: { high: ['senior', 'junior'], standard: ['junior', 'trainee', 'senior'] },
};
const providerConfig = { url, timeoutMs: 500, retries: 0, cacheSeconds: 0, default: 0 };
const service = new ValueService({
  tenants: {
    acme: {
      benefit: { ...providerConfig, url: `${url}/benefit` },
      burden: { ...providerConfig, url: `${url}/burden` },
      algorithm: weightedAlgorithm({
        version: '1',
        weights: { benefit: 1, burden: 0.5, calls: 0.2, minutes: 0.05, repeatContacts: 2 },
        tiers: [
          { name: 'high', minValue: 50 },
          { name: 'standard', minValue: Number.NEGATIVE_INFINITY },
        ],
      }),
      historyWindowDays: 30,
    },
  },
  history: customerHistory(store),
  logger: createLogger('silent'),
});

let n = 0;
async function decide(): Promise<number> {
  const started = performance.now();
  n += 1;
  const value = await service.evaluate('acme', { customerId: `C-${n % 300}` });
  const ranked = rankCandidates(
    directory,
    { tenant: 'acme', queue: 'sales', valueTier: value.result.tier, routing },
    Date.now(),
  );
  if (ranked.length === 0) throw new Error('no candidates');
  return performance.now() - started;
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const report = (label: string, xs: number[]) => {
  const line = `| ${label} | ${xs.length} | ${pct(xs, 50).toFixed(1)} | ${pct(xs, 99).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`;
  process.stdout.write(`${line}\n`);
};

for (let i = 0; i < 50; i += 1) await decide(); // warm up
const sequential: number[] = [];
for (let i = 0; i < DECISIONS; i += 1) sequential.push(await decide());
const concurrent: number[] = [];
for (let i = 0; i < DECISIONS / 20; i += 1)
  concurrent.push(...(await Promise.all(Array.from({ length: 20 }, decide))));
const rankOnly: number[] = [];
for (let i = 0; i < DECISIONS; i += 1) {
  const t = performance.now();
  rankCandidates(
    directory,
    { tenant: 'acme', queue: 'sales', valueTier: 'high', routing },
    Date.now(),
  );
  rankOnly.push(performance.now() - t);
}
process.stdout.write(
  `\nRouting decisions, ${AGENTS} agents, providers answering in 20 ms (${new Date().toISOString().slice(0, 10)}):\n\n`,
);
process.stdout.write('| run | decisions | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n');
report('one at a time (providers + history + algorithm + ranking)', sequential);
report('20 at once', concurrent);
report(`ranking ${AGENTS} agents alone`, rankOnly);
provider.close();
db.close();
