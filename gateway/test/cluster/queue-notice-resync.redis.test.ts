/**
 * Queue notices (cluster/queue-changes.ts) across a Redis outage: a notice
 * published by A while Redis was away is lost (pub/sub), so B looks again at
 * each of its queues once it hears the channel again. Before: B's callers
 * waited for the next change anywhere (an agent freed on A meanwhile was not
 * offered to them).
 */
import { startRedis, until, type RedisServer } from '@parley/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisQueueChanges } from '../../src/cluster/queue-changes.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { testRedisLink } from './test-link.js';

const PREFIX = 'queue-notice-resync-test:';
let redis: RedisServer;
const links: RedisLink[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(links.map((l) => l.close()));
  await redis?.stop();
});

async function gateway(instanceId: string) {
  const link = testRedisLink(redis.url, PREFIX);
  links.push(link);
  await link.start();
  const logger = pino({ level: 'silent' });
  const changes = new RedisQueueChanges({ redis: link, instanceId, logger, queues: ['sales'] });
  await changes.start();
  const heard: string[] = [];
  changes.subscribe((queue) => heard.push(queue));
  return { link, changes, heard };
}

describe('queue notices across a Redis outage', () => {
  it('B looks at its queues again once it hears the channel again', async () => {
    const a = await gateway('gw-a');
    const b = await gateway('gw-b');
    a.changes.publish('sales');
    await until(() => b.heard.length === 1, 'B hears A’s notice');
    await redis.kill();
    await until(() => !a.link.up && !b.link.up, 'the links down');
    a.changes.publish('sales'); // lost
    await redis.restart();
    const back = Date.now();
    await until(() => b.heard.length >= 2, 'B looks at sales again', 10_000);
    expect(Date.now() - back).toBeLessThan(5_000);
    expect(b.heard.every((q) => q === 'sales')).toBe(true);
  });
});
