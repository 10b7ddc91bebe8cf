/**
 * Agents' call slots (cluster/slot-claims.ts) across a Redis outage, two
 * gateways' claims on a real redis-server: what changed while Redis was away
 * holds in Redis within seconds of its return, not at the claim's lapse (the
 * lease, 120 s here). Before: a release that failed left the claim in a Redis
 * that came back with its data (B's call to the agent ended `agent_busy` for
 * the whole lease), and an answered call's claim lost by a Redis restarted
 * empty was only ever renewed where it still was (`ZADD XX`), so B could
 * offer the talking agent a second call.
 */
import { startRedis, until, type RedisServer } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisSlotClaims } from '../../src/cluster/slot-claims.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { testRedisLink } from './test-link.js';

const PREFIX = 'slot-resync-test:';
const LEASE_SECONDS = 120;
let redis: RedisServer;
const links: RedisLink[] = [];
const claims: RedisSlotClaims[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  claims.forEach((c) => c.close());
  await Promise.all(links.map((l) => l.close()));
  await redis?.stop();
});

async function gateway(instanceId: string) {
  const link = testRedisLink(redis.url, PREFIX);
  links.push(link);
  await link.start();
  const slots = new RedisSlotClaims(link, {
    namespace: 'agent-slots',
    instanceId,
    heartbeatSeconds: 60,
    leaseSeconds: LEASE_SECONDS,
  });
  claims.push(slots);
  return { link, slots };
}

let tries = 0;
/** Whether B may ring the agent now (a claim of its own, released at once if granted). */
async function bMayRing(b: { slots: RedisSlotClaims }, agent: string): Promise<boolean> {
  const holder = `b-leg-${(tries += 1)}`;
  const granted = await b.slots.claim(agent, 1, holder, 30_000);
  if (granted) b.slots.release(agent, holder);
  return granted;
}

describe('agents’ slots across a Redis outage', () => {
  it('a release that failed is sent again once Redis is back with its data', async () => {
    const a = await gateway('gw-a1');
    const b = await gateway('gw-b1');
    expect(await a.slots.claim('agent1', 1, 'a-leg', 30_000)).toBe(true);
    a.slots.hold('agent1', 'a-leg');
    expect(await bMayRing(b, 'agent1')).toBe(false);
    await redis.kill({ keepData: true });
    await until(() => !a.link.up && !b.link.up, 'the links down');
    a.slots.release('agent1', 'a-leg');
    await redis.restart({ keepData: true });
    const back = Date.now();
    await until(() => b.link.up && bMayRing(b, 'agent1'), 'B may ring the agent', 10_000);
    expect(Date.now() - back).toBeLessThan(5_000);
  });

  it('an answered call’s claim is written again once Redis is back empty: B may not ring the agent', async () => {
    const a = await gateway('gw-a2');
    const b = await gateway('gw-b2');
    expect(await a.slots.claim('agent2', 1, 'a-leg', 30_000)).toBe(true);
    a.slots.hold('agent2', 'a-leg');
    await redis.kill();
    await until(() => !a.link.up && !b.link.up, 'the links down');
    await redis.restart();
    await until(() => a.link.up && b.link.up, 'the links up', 20_000);
    await until(
      async () => (await redis.cli('ZCARD', `${PREFIX}agent-slots:agent2`)).trim() === '1',
      'A’s claim written again',
      5_000,
    );
    expect(await bMayRing(b, 'agent2')).toBe(false);
  });

  it('a ring claimed while Redis was away and answered after its return is held in Redis: B may not ring the agent', async () => {
    const a = await gateway('gw-a3');
    const b = await gateway('gw-b3');
    await redis.kill();
    await until(() => !a.link.up && !b.link.up, 'the links down');
    // Granted without Redis (the gateway goes on alone); nothing written.
    expect(await a.slots.claim('agent3', 1, 'a-leg', 30_000)).toBe(true);
    await redis.restart();
    await until(() => a.link.up && b.link.up, 'the links up', 20_000);
    a.slots.hold('agent3', 'a-leg');
    await until(
      async () => (await redis.cli('ZCARD', `${PREFIX}agent-slots:agent3`)).trim() === '1',
      'A’s answered claim written',
      5_000,
    );
    expect(await bMayRing(b, 'agent3')).toBe(false);
  });
});
