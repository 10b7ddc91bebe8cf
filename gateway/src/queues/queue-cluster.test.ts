/**
 * Two queue services ("gateways") on one shared state and a change bus, as a
 * cluster runs them on Redis (cluster/redis-queue-state.ts, queue-changes.ts):
 * positions are the cluster's, a freed agent goes to the best caller of any
 * gateway (offered by that caller's gateway only), and a decline seen by one
 * gateway holds on the other. The Redis versions are tested against a real
 * server in test/cluster/queue-state.redis.test.ts and queue.redis.test.ts.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { DialAttempt } from '../flows/ports.js';
import type { QueueTicket } from '../flows/queue-port.js';
import { fakeBridge, fakeContext } from '../flows/testing/fake-call.js';
import { createLogger } from '../observability/index.js';
import type { QueueChanges } from './ports.js';
import { QueueService } from './queue-service.js';
import { MemoryQueueState } from './queue-state.js';
import { FakeAgents } from './testing/fake-agents.js';

/** Pub/sub between the services: a notice reaches the others a turn later, never the sender. */
class Bus {
  readonly #members = new Set<{ listeners: Set<(queue: string) => void> }>();
  member(): QueueChanges {
    const me = { listeners: new Set<(queue: string) => void>() };
    this.#members.add(me);
    return {
      publish: (queue) => {
        for (const other of this.#members)
          if (other !== me)
            for (const listener of other.listeners) setImmediate(() => listener(queue));
      },
      subscribe: (listener) => {
        me.listeners.add(listener);
        return () => me.listeners.delete(listener);
      },
    };
  }
}

function cluster() {
  let clock = 1_000_000;
  const state = new MemoryQueueState();
  const agents = new FakeAgents();
  const bus = new Bus();
  /** Every offer made, in order: [gateway, callId, agentId], and how to settle it. */
  const offers: {
    gateway: string;
    callId: string;
    agentId: string;
    settle(a: DialAttempt): void;
  }[] = [];
  const gateway = (name: string) => {
    const service = new QueueService({
      queues: { sales: { tenant: 'acme', ringTimeoutSeconds: 20, waiting: undefined } },
      state,
      agents,
      changes: bus.member(),
      logger: createLogger('silent'),
      now: () => clock,
    });
    const join = async (callId: string, value = 0): Promise<QueueTicket> => {
      clock += 1000;
      const result = await service.join({
        queue: 'sales',
        context: fakeContext({ callId, value: { value, tier: 'standard' } }),
        maxWaitSeconds: 600,
        offer: (agentId) =>
          new Promise<DialAttempt>((settle) =>
            offers.push({ gateway: name, callId, agentId, settle }),
          ),
      });
      if (!result.ok) throw new Error(`refused: ${result.reason}`);
      return result.ticket;
    };
    return { service, join };
  };
  return { a: gateway('A'), b: gateway('B'), agents, offers, state };
}

/** Resolves once `ticket` is at `position`. */
async function at(ticket: QueueTicket, position: number): Promise<void> {
  while (ticket.position !== position) await once(ticket, 'position');
}

describe('queues shared by two gateways', () => {
  it('gives every caller its place in the cluster, and a freed agent to the first caller, by its own gateway', async () => {
    const c = cluster();
    c.agents.add('alice', ['sales']);
    const a1 = await c.a.join('a1');
    const b1 = await c.b.join('b1');
    const a2 = await c.a.join('a2');
    await at(a1, 1);
    await at(b1, 2);
    await at(a2, 3);
    const offered = once(c.a.service, 'offered');
    c.agents.set('alice', 'available');
    await offered;
    expect(c.offers.map((o) => [o.gateway, o.callId, o.agentId])).toEqual([['A', 'a1', 'alice']]);
    // The others move up on both gateways.
    await at(b1, 1);
    await at(a2, 2);
    c.offers[0]!.settle({ status: 'answered', bridge: fakeBridge('alice') });
    expect(await a1.done).toMatchObject({ status: 'bridged', agentId: 'alice' });
    expect(await c.state.size('sales')).toBe(2);
  });

  it('leaves an agent to a better caller of another gateway rather than take it for a later one', async () => {
    const c = cluster();
    c.agents.add('alice', ['sales']);
    const a1 = await c.a.join('a1', 0);
    const b1 = await c.b.join('b1', 50);
    await at(b1, 1);
    await at(a1, 2);
    const offered = once(c.b.service, 'offered');
    const aLooked = once(c.a.service, 'waiting');
    c.agents.set('alice', 'available');
    await offered;
    // Both gateways made a pass (both see alice free); only B offered, and only b1.
    await aLooked;
    expect(c.offers.map((o) => [o.gateway, o.callId])).toEqual([['B', 'b1']]);
    expect(a1.offeredTo).toBeUndefined();
  });

  it('holds an agent’s decline on every gateway: the next caller gets that agent', async () => {
    const c = cluster();
    c.agents.add('alice', ['sales']);
    const b1 = await c.b.join('b1', 50);
    const a1 = await c.a.join('a1', 0);
    const first = once(c.b.service, 'offered');
    c.agents.set('alice', 'available');
    await first;
    const second = once(c.a.service, 'offered');
    c.offers[0]!.settle({ status: 'no-answer' });
    await second;
    expect(c.offers.map((o) => [o.gateway, o.callId, o.agentId])).toEqual([
      ['B', 'b1', 'alice'],
      ['A', 'a1', 'alice'],
    ]);
    expect(b1.offeredTo).toBeUndefined();
    expect(a1.offeredTo).toBe('alice');
  });
});
