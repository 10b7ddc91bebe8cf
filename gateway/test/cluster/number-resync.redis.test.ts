/**
 * Caller-ID number leases (cluster/number-leases.ts) across a Redis outage:
 * a number with a call on it through A is A's again within seconds of a
 * Redis restarted empty, so B does not give it to another session. Before:
 * the heartbeat only renewed a claim still in Redis, and B took the number.
 */
import { startRedis, until, type RedisServer } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisNumberLeases } from '../../src/cluster/number-leases.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { testRedisLink } from './test-link.js';

const PREFIX = 'number-resync-test:';
let redis: RedisServer;
const links: RedisLink[] = [];
const leases: RedisNumberLeases[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  leases.forEach((l) => l.close());
  await Promise.all(links.map((l) => l.close()));
  await redis?.stop();
});

async function gateway() {
  const link = testRedisLink(redis.url, PREFIX);
  links.push(link);
  await link.start();
  // A heartbeat far off: only the claim on Redis's return can put the number back in time.
  const numbers = new RedisNumberLeases(link, { heartbeatSeconds: 60, leaseSeconds: 120 });
  leases.push(numbers);
  return { link, numbers };
}

describe('caller-ID numbers across a Redis outage', () => {
  it('a number with a call on it through A is claimed again once Redis is back empty', async () => {
    const a = await gateway();
    const b = await gateway();
    expect(await a.numbers.claim('+15550100', 'acme\nsess-a', 60_000)).toBe(true);
    a.numbers.hold('+15550100', 'acme\nsess-a');
    await redis.kill();
    await until(() => !a.link.up && !b.link.up, 'the links down');
    await redis.restart();
    const back = Date.now();
    await until(
      async () => (await redis.cli('GET', `${PREFIX}number:+15550100`)).includes('sess-a'),
      'A’s claim written again',
      10_000,
    );
    expect(Date.now() - back).toBeLessThan(5_000);
    expect(await b.numbers.claim('+15550100', 'acme\nsess-b', 60_000)).toBe(false);
  });
});
