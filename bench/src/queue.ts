/**
 * Queue decisions (issue 10, item 7): with 1,000 callers waiting, how long
 * from an agent becoming free (its presence change in the agent directory)
 * to the queue choosing the caller and starting to ring that agent. The
 * agents are real `AgentDirectory` entries ranked by `rankCandidates` through
 * `DirectoryQueueAgents` (what the gateway runs); the calls are fakes that
 * answer at once. Each round: one busy agent ends its call, the queue offers
 * it the best caller, the agent answers, a new caller joins (1,000 waiting
 * again).
 *
 *   node --import tsx bench/src/queue.ts [--waiting 1000] [--agents 50] [--rounds 2000]
 */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import type { DialAttempt } from '../../gateway/src/flows/ports.js';
import { fakeBridge, fakeContext } from '../../gateway/src/flows/testing/fake-call.js';
import { createLogger } from '../../gateway/src/observability/index.js';
import {
  DEFAULT_WAITING,
  DirectoryQueueAgents,
  MemoryQueueState,
  QueueService,
} from '../../gateway/src/queues/index.js';
import { AgentDirectory } from '../../gateway/src/agents/index.js';
import type { QueueRouting } from '../../gateway/src/routing/index.js';

/** Sequential ringing, no bands: what a queue without routing settings does. */
const DEFAULT_QUEUE_ROUTING: QueueRouting = { strategy: 'sequential', ringAtOnce: 1, bands: {} };
import { percentile, summarize } from './latency-stats.js';

const { values } = parseArgs({
  options: {
    waiting: { type: 'string', default: '1000' },
    agents: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '2000' },
  },
});
const WAITING = Number(values.waiting);
const AGENTS = Number(values.agents);
const ROUNDS = Number(values.rounds);
const TIERS = ['high', 'standard', 'low'];

function scenario(name: string, bands: Record<string, string[]>, agentTier: (i: number) => string) {
  const directory = new AgentDirectory(
    Array.from({ length: AGENTS }, (_, i) => ({
      id: `agent${i}`,
      tenant: 'acme',
      password: 'secret',
      queues: ['sales'],
      maxCalls: 1,
      tier: agentTier(i),
      contact: `sip:agent${i}@pbx.acme.test`,
    })),
  );
  const ends = new Map<string, () => void>();
  for (let i = 0; i < AGENTS; i += 1) ends.set(`agent${i}`, directory.callStarted(`agent${i}`));
  const routing = { ...DEFAULT_QUEUE_ROUTING, bands };
  const service = new QueueService({
    queues: {
      sales: {
        tenant: 'acme',
        ringTimeoutSeconds: 20,
        waiting: { ...DEFAULT_WAITING, maxCallers: 100_000 },
      },
    },
    state: new MemoryQueueState(),
    agents: new DirectoryQueueAgents(directory, () => ({ tenant: 'acme', routing })),
    logger: createLogger('silent'),
  });
  let joined = 0;
  let offerStarted = 0;
  const offer = (agentId: string): Promise<DialAttempt> => {
    offerStarted = performance.now();
    ends.set(agentId, directory.callStarted(agentId));
    return Promise.resolve({ status: 'answered', bridge: fakeBridge(agentId) });
  };
  const join = async (): Promise<void> => {
    joined += 1;
    const tier = TIERS[joined % TIERS.length]!;
    const result = await service.join({
      queue: 'sales',
      context: fakeContext({
        callId: `c${joined}`,
        value: { value: (joined * 7919) % 1000, tier },
      }),
      maxWaitSeconds: 86_400,
      offer,
    });
    if (!result.ok) throw new Error(`join refused: ${result.reason}`);
  };
  return { name, directory, ends, service, join, offerStarted: () => offerStarted };
}

async function run(s: ReturnType<typeof scenario>) {
  const joins: number[] = [];
  for (let i = 0; i < WAITING; i += 1) {
    const t0 = performance.now();
    await s.join();
    joins.push(performance.now() - t0);
  }
  const toRing: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const agentId = `agent${round % AGENTS}`;
    const offered = once(s.service, 'offered');
    const t0 = performance.now();
    s.ends.get(agentId)!(); // the agent's call ends: its presence changes to available
    await offered;
    toRing.push(s.offerStarted() - t0);
    await s.join(); // keep WAITING callers in the queue
  }
  s.service.close();
  return {
    joins: summarize(joins.slice(-Math.min(joins.length, 500))),
    toRing: {
      ...summarize(toRing),
      p95Ms: percentile(
        [...toRing].sort((a, b) => a - b),
        95,
      ),
    },
  };
}

const fmt = (v: number) => v.toFixed(3);
process.stdout.write(
  `queue decisions: ${WAITING} waiting, ${AGENTS} agents (AgentDirectory + rankCandidates), ${ROUNDS} rounds\n`,
);
for (const s of [
  scenario('no bands (every agent serves every caller)', {}, () => 'senior'),
  // Every agent is a junior and the high band is served by seniors only: a third
  // of the callers (the high ones, often first by value) are skipped on each pass.
  scenario(
    'bands: the best callers need a tier no agent has',
    { high: ['senior'], standard: ['junior'], low: ['junior'] },
    () => 'junior',
  ),
]) {
  const r = await run(s);
  process.stdout.write(
    `\n${s.name}\n` +
      `  agent free → ringing the chosen caller's agent: p50 ${fmt(r.toRing.p50Ms)} ms, p95 ${fmt(r.toRing.p95Ms)} ms, p99 ${fmt(r.toRing.p99Ms)} ms, max ${fmt(r.toRing.maxMs)} ms\n` +
      `  a caller joining 1,000 waiting (last 500): p50 ${fmt(r.joins.p50Ms)} ms, p99 ${fmt(r.joins.p99Ms)} ms\n`,
  );
}
