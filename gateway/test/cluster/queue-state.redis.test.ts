/**
 * Queue membership in Redis (issue 16), on a real redis-server: the queue
 * state contract (src/queues/queue-state-contract.ts) with two gateways'
 * states on one Redis, each with its own connection; a claim refused while
 * the agent's call slots are held on any gateway (and when the first lapses);
 * a lost gateway's callers swept once its lease is gone, and a restarted
 * gateway's own of before; a heartbeat is one script reading each queue once.
 */
import { startRedis, type RedisServer } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisQueueState } from '../../src/cluster/redis-queue-state.js';
import { RedisSlotClaims } from '../../src/cluster/slot-claims.js';
import { describeQueueStateContract, entry } from '../../src/queues/queue-state-contract.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { testRedisLink } from './test-link.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

let round = 0;

async function link(prefix: string): Promise<RedisLink> {
  const l = testRedisLink(redis.url, prefix, 2000);
  await l.start();
  return l;
}

function state(
  l: RedisLink,
  instanceId: string,
  maxCalls = 1,
  slotsHeld?: (queue: string, ms: number) => void,
): RedisQueueState {
  return new RedisQueueState(l, {
    instanceId,
    queues: ['sales', 'support'],
    maxCalls: () => maxCalls,
    heartbeatSeconds: 60,
    slotsHeld,
  });
}

describeQueueStateContract('redis, two gateways', async () => {
  // A fresh prefix per case: the server is shared by the file.
  const prefix = `contract-${round++}:`;
  const [la, lb] = [await link(prefix), await link(prefix)];
  const [a, b] = [state(la, 'gw-a'), state(lb, 'gw-b')];
  return {
    a,
    b,
    async close() {
      a.close();
      b.close();
      await la.close();
      await lb.close();
    },
  };
});

describe('RedisQueueState in a cluster', () => {
  it('refuses an agent whose call slots are held on any gateway, until they are released', async () => {
    const l = await link('slots:');
    const held: [string, number][] = [];
    const s = state(l, 'gw-a', 2, (queue, ms) => held.push([queue, ms]));
    const claims = new RedisSlotClaims(l, {
      namespace: 'agent-slots',
      instanceId: 'gw-b',
      heartbeatSeconds: 60,
      leaseSeconds: 120,
    });
    try {
      await s.add(entry('c1', 0, 1), 10);
      expect(await claims.claim('agent1', 2, 'call-1', 60_000)).toBe(true);
      expect(await claims.claim('agent1', 2, 'call-2', 30_000)).toBe(true);
      expect(await s.claim('sales', 'c1', 'agent1')).toBe(false);
      // It says when the first of them lapses (call-2's, in 30 s), for the queue's notice then.
      expect(held).toHaveLength(1);
      expect(held[0]![0]).toBe('sales');
      expect(held[0]![1]).toBeGreaterThan(29_000);
      expect(held[0]![1]).toBeLessThanOrEqual(30_000);
      claims.release('agent1', 'call-2');
      // maxCalls 2, one call on: the agent may take a queue caller.
      expect(await s.claim('sales', 'c1', 'agent1')).toBe(true);
      expect(held).toHaveLength(1);
    } finally {
      claims.close();
      s.close();
      await l.close();
    }
  });

  it("sweeps a lost gateway's callers (and their offers), keeps the living ones'", async () => {
    const l = await link('sweep:');
    const a = state(l, 'gw-a');
    const b = state(l, 'gw b');
    try {
      // Only gw-a holds its lease (presence.ts writes `gateway:<instance>`).
      await l.client.set('sweep:gateway:gw-a', '1');
      await a.add(entry('a1', 0, 1), 10);
      await b.add(entry('b1', 5, 2), 10);
      await b.add(entry('b2', 0, 3, 'support'), 10);
      expect(await b.claim('sales', 'b1', 'agent1')).toBe(true);
      expect((await a.heartbeat()).sort()).toEqual(['sales', 'support']);
      expect((await a.waiting('sales')).map((e) => e.callId)).toEqual(['a1']);
      expect(await a.size('sales')).toBe(1);
      expect(await a.size('support')).toBe(0);
      expect((await a.offers()).size).toBe(0);
      expect(await a.heartbeat()).toEqual([]);
      // The agent is free for the living gateway's caller.
      expect(await a.claim('sales', 'a1', 'agent1')).toBe(true);
      // gw-a restarts under the same id: its callers of before (their legs) are gone.
      const restarted = state(l, 'gw-a');
      expect(await restarted.forgetOwn()).toEqual(['sales']);
      restarted.close();
      expect(await a.size('sales')).toBe(0);
      expect((await a.offers()).size).toBe(0);
    } finally {
      a.close();
      b.close();
      await l.close();
    }
  });

  it('reconciles its own callers every heartbeat: a lost remove undone, a swept caller back', async () => {
    const l = await link('reconcile:');
    const a = state(l, 'gw-a');
    try {
      await a.add(entry('a1', 0, 1), 10);
      await a.add(entry('a2', 0, 2), 10);
      // A remove whose answer was lost leaves the entry in Redis (the caller left here).
      await a.remove('sales', 'a2');
      const ghost = JSON.stringify({ ...entry('a2', 0, 2), owner: 'gw-a' });
      await l.client.hset('reconcile:queue:sales', 'a2', ghost);
      // Other gateways took gw-a for dead while it was cut off: its live caller was swept.
      await l.client.hdel('reconcile:queue:sales', 'a1');
      expect(await a.heartbeat()).toEqual(['sales']);
      const back = await a.waiting('sales');
      expect(back.map((e) => [e.callId, e.joinedAt])).toEqual([['a1', 1]]);
      expect(await a.heartbeat()).toEqual([]);
    } finally {
      a.close();
      await l.close();
    }
  });

  it('beats in one script reading each queue once; an add in flight is not taken for a lost remove', async () => {
    const l = await link('beat:');
    const a = state(l, 'gw-a');
    try {
      await l.client.set('beat:gateway:gw-a', '1');
      await l.client.set('beat:gateway:gw-b', '1');
      await a.add(entry('a1', 0, 1), 10);
      await a.add(entry('a2', 0, 2, 'support'), 10);
      const other = JSON.stringify({ ...entry('b1', 0, 3), owner: 'gw-b' });
      await l.client.hset('beat:queue:sales', 'b1', other);
      const before = await commandStats(l);
      expect(await a.heartbeat()).toEqual([]);
      const used = delta(before, await commandStats(l));
      // One round trip; in it one HGETALL per queue and one EXISTS per other gateway.
      expect(used).toEqual(
        new Map([
          ['eval', 1],
          ['hgetall', 2],
          ['exists', 1],
        ]),
      );

      // The heartbeat runs while an add is on its way: the caller stays.
      const adding = a.add(entry('a3', 0, 4), 10);
      const beat = a.heartbeat();
      expect(await adding).toBe(true);
      expect(await beat).toEqual([]);
      expect((await a.waiting('sales')).map((e) => e.callId)).toEqual(['a1', 'b1', 'a3']);
    } finally {
      a.close();
      await l.close();
    }
  });
});

/** `INFO commandstats`: command → calls. */
async function commandStats(l: RedisLink): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const line of (await l.client.info('commandstats')).split('\n')) {
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
