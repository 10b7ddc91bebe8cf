/**
 * What one gateway's queue heartbeat costs Redis (issue 16): the commands
 * (and round trips) of one `RedisQueueState` heartbeat, read from the
 * server's own `INFO commandstats` before and after (commands run inside a
 * script are counted there too). G gateways' states on one redis-server
 * (the testkit's, Debian's), Q queues, C callers per gateway per queue, one
 * lost gateway's callers in each queue (swept by the first heartbeat).
 *
 *   ./scripts/in-netns.sh node --import tsx bench/src/queue-heartbeat.ts [--gateways 3] [--queues 10] [--callers 20]
 */
import { parseArgs } from 'node:util';
import { startRedis, stopAll } from '@parley/testkit';
import { ClusterMetrics } from '../../gateway/src/cluster/metrics.js';
import { RedisLink } from '../../gateway/src/cluster/redis-link.js';
import { RedisQueueState } from '../../gateway/src/cluster/redis-queue-state.js';
import { createLogger, Metrics } from '../../gateway/src/observability/index.js';
import type { WaitingEntry } from '../../gateway/src/queues/index.js';

const { values } = parseArgs({
  options: {
    gateways: { type: 'string', default: '3' },
    queues: { type: 'string', default: '10' },
    callers: { type: 'string', default: '20' },
  },
});
const GATEWAYS = Number(values.gateways);
const QUEUES = Number(values.queues);
const CALLERS = Number(values.callers);
const PREFIX = 'hb:';

function entry(callId: string, queue: string, joinedAt: number): WaitingEntry {
  return {
    callId,
    queue,
    tenant: 'acme',
    value: 0,
    tier: undefined,
    joinedAt,
    caller: {
      channel: 'sip',
      from: 'sip:caller@example.test',
      sessionNumber: null,
      customerId: null,
    },
  };
}

/** `INFO commandstats` as command → calls. */
async function commandStats(client: RedisLink['client']): Promise<Map<string, number>> {
  const text = await client.info('commandstats');
  const stats = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) stats.set(m[1]!, Number(m[2]));
  }
  return stats;
}

function delta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, calls] of after) {
    const d = calls - (before.get(name) ?? 0);
    if (d > 0 && name !== 'info') out.set(name, d);
  }
  return out;
}

const redis = await startRedis();
const open = async (): Promise<RedisLink> => {
  const link = new RedisLink(
    { url: redis.url, keyPrefix: PREFIX, commandTimeoutMs: 5000, connectTimeoutMs: 5000 },
    { logger: createLogger('silent'), metrics: new ClusterMetrics(new Metrics().registry) },
  );
  await link.start();
  return link;
};
const adminLink = await open();
const admin = adminLink.client;
const queues = Array.from({ length: QUEUES }, (_, i) => `q${i}`);
const links: RedisLink[] = [adminLink];
const states: RedisQueueState[] = [];
try {
  for (let g = 0; g < GATEWAYS; g++) {
    const link = await open();
    links.push(link);
    // The heartbeat is driven by hand below.
    const state = new RedisQueueState(link, {
      instanceId: `gw-${g}`,
      queues,
      maxCalls: () => 1,
      heartbeatSeconds: 3600,
    });
    states.push(state);
    await admin.set(`${PREFIX}gateway:gw-${g}`, '1');
    for (const queue of queues)
      for (let c = 0; c < CALLERS; c++)
        await state.add(entry(`gw-${g}-${queue}-${c}`, queue, g * 1000 + c), 100_000);
  }
  // A lost gateway's callers (no lease) in every queue.
  for (const queue of queues)
    for (let c = 0; c < CALLERS; c++)
      await admin.hset(
        `${PREFIX}queue:${queue}`,
        `lost-${c}`,
        JSON.stringify({ ...entry(`lost-${c}`, queue, c), owner: 'gw-lost' }),
      );

  const rows: string[] = [];
  for (const round of ['first (sweeps the lost gateway)', 'steady']) {
    const before = await commandStats(admin);
    const changed = await states[0]!.heartbeat();
    const used = delta(before, await commandStats(admin));
    const total = [...used.values()].reduce((a, b) => a + b, 0);
    const trips = (used.get('eval') ?? 0) + (used.get('evalsha') ?? 0);
    rows.push(
      `| ${round} | ${total} | ${trips} | ${[...used].map(([n, c]) => `${n} ${c}`).join(', ')} | ${changed.length} |`,
    );
  }
  console.log(
    `${GATEWAYS} gateways, ${QUEUES} queues, ${CALLERS} callers per gateway per queue (+${CALLERS} lost)`,
  );
  console.log('| heartbeat | commands | scripts (round trips) | by command | queues changed |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  for (const state of states) state.close();
  for (const link of links) await link.close();
  await redis.stop();
  await stopAll();
}
