/**
 * A gateway that stops right after its last calls ended leaves no slot claim
 * behind in Redis: the releases those calls fired are sent before the link
 * closes. (A claim left behind holds one of the agent's `maxCalls` until its
 * lease lapses, so the next gateways refuse calls `486 agent_busy` meanwhile.)
 */
import { startRedis, type RedisServer } from '@parley/testkit';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterMetrics } from '../../src/cluster/metrics.js';
import { RedisLink } from '../../src/cluster/redis-link.js';
import { RedisSlotClaims } from '../../src/cluster/slot-claims.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('slot claims at a clean stop', () => {
  it('sends every release fired before close()', async () => {
    const prefix = 'release-test:';
    for (let round = 0; round < 20; round++) {
      const link = new RedisLink(
        { url: redis.url, keyPrefix: prefix, commandTimeoutMs: 2000, connectTimeoutMs: 2000 },
        { logger: pino({ level: 'silent' }), metrics: new ClusterMetrics(new Registry()) },
      );
      await link.start();
      const claims = new RedisSlotClaims(link, {
        namespace: 'agent-slots',
        instanceId: `gw-${round}`,
        heartbeatSeconds: 5,
        leaseSeconds: 30,
      });
      const holders = ['c1', 'c2', 'c3', 'c4'];
      for (const h of holders) expect(await claims.claim('agent1', 8, h, 30_000)).toBe(true);
      for (const h of holders) claims.hold('agent1', h);
      // The calls end and the gateway stops at once, as a drained gateway does.
      for (const h of holders) claims.release('agent1', h);
      claims.close();
      await link.close();
      const check = new Redis(redis.url);
      try {
        expect(await check.zcard(`${prefix}agent-slots:agent1`), `round ${round}`).toBe(0);
      } finally {
        check.disconnect();
      }
    }
  });
});
