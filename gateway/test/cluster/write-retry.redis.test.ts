/**
 * Writes that fail while Redis stays up (cluster/retries.ts): a real
 * redis-server refusing writes for a while (`min-replicas-to-write 1` with no
 * replica: every write answered `NOREPLICAS`, the connection untouched, no
 * reconnection). What gateway A changed meanwhile must reach Redis, and
 * gateway B, once writes are taken again, without any reconnection to set off
 * a rewrite. Before: each store wrote again only at a reconnection, so here
 * never: an agent's slot release lost left the agent taken on every gateway
 * until the claim's lease (120 s here; for ever, had it been renewed), a phone
 * unregistered through A stayed rung by B until its registration's end, an
 * agent's ring ended on A showed ringing on B until the lease.
 */
import { startRedis, until, type RedisServer } from '@parley/testkit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentDirectory } from '../../src/agents/agent-directory.js';
import { RedisAgentCalls } from '../../src/cluster/agent-calls.js';
import { RedisAgentSync } from '../../src/cluster/agent-sync.js';
import { ClusterMetrics } from '../../src/cluster/metrics.js';
import { RedisLink } from '../../src/cluster/redis-link.js';
import { RedisSlotClaims } from '../../src/cluster/slot-claims.js';

const PREFIX = 'write-retry-test:';
const LEASE_SECONDS = 120;
/** How soon a write that failed must land once Redis takes writes again (the back-off's cap is 5 s). */
const LANDS_WITHIN_MS = 6_000;
let redis: RedisServer;
const closers: (() => void | Promise<void>)[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await allowWrites();
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await redis?.stop();
});

/** Redis refuses every write (`NOREPLICAS`) and stays up: reads and PUBLISH still answered. */
async function refuseWrites(): Promise<void> {
  await redis.cli('CONFIG', 'SET', 'min-replicas-to-write', '1');
}
async function allowWrites(): Promise<void> {
  await redis.cli('CONFIG', 'SET', 'min-replicas-to-write', '0');
}

/** A link that counts its outages (the test shows none happened), with its metrics. */
async function link(): Promise<{ link: RedisLink; metrics: ClusterMetrics; downs: () => number }> {
  const metrics = new ClusterMetrics(new Registry());
  const l = new RedisLink(
    { url: redis.url, keyPrefix: PREFIX, commandTimeoutMs: 500, connectTimeoutMs: 2000 },
    { logger: pino({ level: 'silent' }), metrics },
  );
  let downs = 0;
  l.on('down', () => (downs += 1));
  closers.push(() => l.close());
  await l.start();
  expect(l.up).toBe(true);
  return { link: l, metrics, downs: () => downs };
}

/** How many of `op`'s commands failed on a link (`parley_shared_redis_errors_total{op}`). */
async function failures(metrics: ClusterMetrics, op: string): Promise<number> {
  const metric = await metrics.redisErrors.get();
  return metric.values.find((v) => v.labels.op === op)?.value ?? 0;
}

describe('a write refused while Redis stays up', () => {
  it('an agent’s slot release lands once Redis takes writes: B may ring the agent', async () => {
    const a = await link();
    const b = await link();
    const claims = (l: RedisLink, instanceId: string) => {
      const c = new RedisSlotClaims(l, {
        namespace: 'agent-slots',
        instanceId,
        heartbeatSeconds: 60,
        leaseSeconds: LEASE_SECONDS,
      });
      closers.push(() => c.close());
      return c;
    };
    const slotsA = claims(a.link, 'gw-a1');
    const slotsB = claims(b.link, 'gw-b1');
    let tries = 0;
    const bMayRing = async () => {
      const holder = `b-leg-${(tries += 1)}`;
      const granted = await slotsB.claim('agent1', 1, holder, 30_000);
      if (granted) slotsB.release('agent1', holder);
      return granted;
    };
    expect(await slotsA.claim('agent1', 1, 'a-leg', 30_000)).toBe(true);
    slotsA.hold('agent1', 'a-leg');
    expect(await bMayRing()).toBe(false);

    await refuseWrites();
    slotsA.release('agent1', 'a-leg');
    await until(
      async () => (await failures(a.metrics, 'agent_slots_release')) > 0,
      'A’s release refused',
    );
    expect(await redis.cli('ZCARD', `${PREFIX}agent-slots:agent1`)).toMatch(/^1\s*$/);
    await allowWrites();
    const allowed = Date.now();
    await until(
      async () => (await redis.cli('ZCARD', `${PREFIX}agent-slots:agent1`)).trim() === '0',
      'A’s release landed',
      LANDS_WITHIN_MS,
    );
    expect(Date.now() - allowed).toBeLessThan(LANDS_WITHIN_MS);
    expect(await bMayRing()).toBe(true);
    expect(a.downs()).toBe(0);
    const store = { store: 'agent_slots' };
    expect(
      (await a.metrics.redisRetries.get()).values.find((v) => v.labels.store === store.store)
        ?.value,
    ).toBeGreaterThan(0);
    expect(
      (await a.metrics.redisUnwritten.get()).values.find((v) => v.labels.store === store.store)
        ?.value,
    ).toBe(0);
  });

  it('a phone unregistered through A and an agent’s ring ended on A reach B once Redis takes writes', async () => {
    const gateway = async (instanceId: string) => {
      const { link: l, metrics, downs } = await link();
      const agents = new AgentDirectory([{ id: 'sue', tenant: 'acme', queues: [], maxCalls: 1 }]);
      const deps = { redis: l, agents, instanceId, logger: pino({ level: 'silent' }) };
      const sync = new RedisAgentSync(deps);
      const calls = new RedisAgentCalls({
        ...deps,
        heartbeatSeconds: 60,
        leaseSeconds: LEASE_SECONDS,
      });
      closers.push(() => {
        sync.close();
        calls.close();
        agents.close();
      });
      await Promise.all([sync.start(), calls.start()]);
      return { agents, downs, metrics };
    };
    const a = await gateway('gw-a2');
    const b = await gateway('gw-b2');
    a.agents.setContacts('sue', [
      { uri: 'sip:sue@10.0.0.9:5060', expiresAt: Date.now() + 3_600_000, flowId: 'f' },
    ]);
    const stopRinging = a.agents.ringStarted('sue');
    await until(
      () => b.agents.get('sue')?.registered && b.agents.get('sue')?.ringing === 1,
      'B sees the phone registered and ringing through A',
    );

    await refuseWrites();
    a.agents.setContacts('sue', []);
    stopRinging();
    // Refused: B still sees what A told last.
    await until(
      async () =>
        (await failures(a.metrics, 'agent_publish')) > 0 &&
        (await failures(a.metrics, 'agent_calls')) > 0,
      'A’s writes refused',
    );
    expect(b.agents.get('sue')?.registered).toBe(true);
    expect(b.agents.get('sue')?.ringing).toBe(1);

    await allowWrites();
    const allowed = Date.now();
    await until(
      () => !b.agents.get('sue')?.registered && b.agents.get('sue')?.ringing === 0,
      'B sees the phone unregistered and no longer ringing',
      LANDS_WITHIN_MS,
    );
    expect(Date.now() - allowed).toBeLessThan(LANDS_WITHIN_MS);
    expect((await redis.cli('EXISTS', `${PREFIX}agent-calls:sue`)).trim()).toBe('0');
    expect(a.downs() + b.downs()).toBe(0);
  });
});
