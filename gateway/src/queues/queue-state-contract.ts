/**
 * The queue state contract: what the queue service and its dispatcher rely on
 * from any `QueueState`. One suite, run against each implementation: the
 * memory one (`queue-state.test.ts`) and the Redis one on a real redis-server
 * (`test/cluster/queue-state.redis.test.ts`, which also runs it with two
 * gateways' states on one Redis).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueueState, WaitingEntry } from './queue-state.js';

/** Two views of one state (the same object for memory; two gateways' for Redis). */
export interface QueueStatePair {
  readonly a: QueueState;
  readonly b: QueueState;
  close(): Promise<void>;
}

export function entry(
  callId: string,
  value: number,
  joinedAt: number,
  queue = 'sales',
  tier?: string,
): WaitingEntry {
  return {
    callId,
    queue,
    tenant: 'acme',
    value,
    tier,
    joinedAt,
    caller: {
      channel: 'sip',
      from: `sip:${callId}@example.com`,
      sessionNumber: null,
      customerId: null,
    },
  };
}

const ids = (list: readonly WaitingEntry[]): string[] => list.map((e) => e.callId);

export function describeQueueStateContract(
  name: string,
  make: () => Promise<QueueStatePair>,
): void {
  describe(`QueueState contract: ${name}`, () => {
    let pair: QueueStatePair;
    beforeEach(async () => {
      pair = await make();
    });
    afterEach(async () => {
      await pair.close();
    });

    it('orders by value (highest first), then joining time, then call id', async () => {
      const { a, b } = pair;
      expect(await a.add(entry('c', 5, 300), 10)).toBe(true);
      expect(await b.add(entry('a', 5, 200), 10)).toBe(true);
      expect(await a.add(entry('d', 9, 400), 10)).toBe(true);
      expect(await b.add(entry('b', 5, 200), 10)).toBe(true);
      expect(await a.add(entry('e', 0, 100), 10)).toBe(true);
      expect(ids(await a.waiting('sales'))).toEqual(['d', 'a', 'b', 'c', 'e']);
      expect(ids(await b.waiting('sales'))).toEqual(['d', 'a', 'b', 'c', 'e']);
      expect(await b.size('sales')).toBe(5);
      expect(await a.waiting('support')).toEqual([]);
      // The entry comes back as it went in.
      const first = (await b.waiting('sales'))[0];
      expect(first).toEqual(entry('d', 9, 400));
    });

    it('refuses the caller past max, and leaves a caller already in as it is', async () => {
      const { a, b } = pair;
      expect(await a.add(entry('x', 1, 1), 2)).toBe(true);
      expect(await b.add(entry('y', 1, 2), 2)).toBe(true);
      expect(await a.add(entry('z', 1, 3), 2)).toBe(false);
      expect(await b.add(entry('x', 7, 9), 2)).toBe(true);
      expect(await a.size('sales')).toBe(2);
      expect((await a.waiting('sales')).map((e) => e.value)).toEqual([1, 1]);
      // An offered caller still counts.
      expect(await a.claim('sales', 'x', 'agent1')).toBe(true);
      expect(await b.add(entry('z', 1, 3), 2)).toBe(false);
    });

    it('claims only a waiting caller, and only an agent with no offer in any queue', async () => {
      const { a, b } = pair;
      await a.add(entry('s1', 1, 1), 10);
      await a.add(entry('s2', 1, 2), 10);
      await b.add(entry('p1', 1, 1, 'support'), 10);
      expect(await a.claim('sales', 's1', 'agent1')).toBe(true);
      // The caller is offered already; the agent has an offer.
      expect(await b.claim('sales', 's1', 'agent2')).toBe(false);
      expect(await b.claim('sales', 's2', 'agent1')).toBe(false);
      expect(await b.claim('support', 'p1', 'agent1')).toBe(false);
      // Unknown callers and queues.
      expect(await a.claim('sales', 'nobody', 'agent2')).toBe(false);
      expect(await a.claim('nope', 's2', 'agent2')).toBe(false);
      expect(await b.claim('support', 'p1', 'agent2')).toBe(true);
      expect(ids(await a.waiting('sales'))).toEqual(['s2']);
      expect(await a.size('sales')).toBe(2);
      expect(Object.fromEntries(await b.offers())).toEqual({ agent1: 's1', agent2: 'p1' });
    });

    it('gives each agent to one caller when both claim at once', async () => {
      const { a, b } = pair;
      for (let i = 0; i < 6; i++) await a.add(entry(`c${i}`, 0, i), 10);
      // c0…c4 for one agent; then c5 for two agents.
      const tries = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => (i % 2 ? a : b).claim('sales', `c${i}`, 'agent1')),
      );
      expect(tries.filter(Boolean)).toHaveLength(1);
      const again = await Promise.all([
        a.claim('sales', 'c5', 'agent2'),
        b.claim('sales', 'c5', 'agent3'),
      ]);
      expect(again.filter(Boolean)).toHaveLength(1);
    });

    it('declines: the caller back in its place, the agent free, remembered until when', async () => {
      const { a, b } = pair;
      await a.add(entry('first', 3, 1), 10);
      await b.add(entry('second', 3, 2), 10);
      expect(await a.claim('sales', 'first', 'agent1')).toBe(true);
      await b.decline('sales', 'first', 5000);
      const waiting = await a.waiting('sales');
      expect(ids(waiting)).toEqual(['first', 'second']);
      expect(waiting[0]!.declinedBy).toEqual({ agent1: 5000 });
      expect((await b.offers()).size).toBe(0);
      // Another agent declines it too: both are remembered.
      expect(await b.claim('sales', 'first', 'agent2')).toBe(true);
      await a.decline('sales', 'first', 6000);
      expect((await b.waiting('sales'))[0]!.declinedBy).toEqual({ agent1: 5000, agent2: 6000 });
      // Declining a caller that is not offered changes nothing.
      await a.decline('sales', 'second', 7000);
      expect((await a.waiting('sales'))[1]!.declinedBy).toBeUndefined();
      expect(await a.claim('sales', 'second', 'agent1')).toBe(true);
    });

    it('removes a waiting or an offered caller, releasing its agent', async () => {
      const { a, b } = pair;
      await a.add(entry('w', 1, 1), 10);
      await a.add(entry('o', 1, 2), 10);
      expect(await b.claim('sales', 'o', 'agent1')).toBe(true);
      expect(await b.remove('sales', 'o')).toBe(true);
      expect(await a.remove('sales', 'w')).toBe(true);
      expect(await a.remove('sales', 'w')).toBe(false);
      expect(await b.remove('nope', 'w')).toBe(false);
      expect(await a.size('sales')).toBe(0);
      expect((await a.offers()).size).toBe(0);
      await b.add(entry('n', 1, 3), 10);
      expect(await a.claim('sales', 'n', 'agent1')).toBe(true);
    });
  });
}
