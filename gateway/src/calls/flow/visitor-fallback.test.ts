import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { FlowRef } from '../../flows/index.js';
import { createLogger } from '../../observability/index.js';
import type { Call } from '../call.js';
import { visitorFallbacks, type VisitorQueues } from './visitor-fallback.js';

/**
 * The queues' decisions as given (tested in queues/fallback.test.ts): `sales`
 * runs `sales-flow`, closed when listed; other queues run nothing.
 */
function queues(closed: string[] = []): VisitorQueues {
  return {
    visitorFallback: (queue) =>
      queue === 'sales'
        ? { flow: { flow: 'sales-flow' }, closed: closed.includes(queue) }
        : undefined,
  };
}

/** Just what the fallbacks touch of a visitor's call. */
class FakeCall extends EventEmitter {
  readonly id = 'call-1';
  token: object | undefined = {};
  ending = false;
  skipped: string | undefined;
  kept = false;
  ended: unknown;
  constructor(readonly record: { queue: string | undefined }) {
    super();
  }
  skipAgents(reason: string): void {
    this.skipped = reason;
  }
  keepOnNoAgent(): void {
    this.kept = true;
  }
  end(how: unknown): void {
    this.ending = true;
    this.ended = how;
  }
}

function wire(q: VisitorQueues, run?: () => Promise<void>) {
  let listener: ((call: Call) => void) | undefined;
  const runs: [string, FlowRef][] = [];
  visitorFallbacks({
    calls: { onCall: (l) => (listener = l) },
    queues: q,
    run: (call, flow) => {
      runs.push([call.id, flow]);
      return run ? run() : Promise.resolve();
    },
    logger: createLogger('silent'),
  });
  return {
    runs,
    offer(call: FakeCall): void {
      listener?.(call as unknown as Call);
    },
  };
}

describe('visitorFallbacks', () => {
  it("a closed queue: no agent is rung, the call stays up, and the queue's flow runs when the ring gives up", () => {
    const w = wire(queues(['sales']));
    const call = new FakeCall({ queue: 'sales' });
    w.offer(call);
    expect(call.skipped).toBe('outside_business_hours');
    expect(call.kept).toBe(true);
    expect(w.runs).toEqual([]);
    call.emit('agentsExhausted', 'outside_business_hours');
    expect(w.runs).toEqual([['call-1', { flow: 'sales-flow' }]]);
  });

  it('an open queue rings its agents first; only then its flow runs', () => {
    const w = wire(queues());
    const call = new FakeCall({ queue: 'sales' });
    w.offer(call);
    expect(call.skipped).toBeUndefined();
    expect(call.kept).toBe(true);
    expect(w.runs).toEqual([]);
    call.emit('agentsExhausted', 'no_agent_available');
    expect(w.runs).toEqual([['call-1', { flow: 'sales-flow' }]]);
  });

  it('leaves alone trunk calls, calls without a queue, queues with nothing to run, and ended calls', () => {
    const w = wire(queues());
    const trunk = new FakeCall({ queue: 'sales' });
    trunk.token = undefined;
    const noQueue = new FakeCall({ queue: undefined });
    const nothing = new FakeCall({ queue: 'help' });
    for (const call of [trunk, noQueue, nothing]) {
      w.offer(call);
      expect(call.kept).toBe(false);
      call.emit('agentsExhausted', 'no_agent_available');
    }
    const closed = wire(queues(['sales']));
    const ended = new FakeCall({ queue: 'sales' });
    closed.offer(ended);
    ended.ending = true;
    ended.emit('agentsExhausted', 'outside_business_hours');
    expect([...w.runs, ...closed.runs]).toEqual([]);
  });

  it('a flow that fails ends the call with the reason no agent took it', async () => {
    const w = wire(queues(['sales']), () => Promise.reject(new Error('boom')));
    const call = new FakeCall({ queue: 'sales' });
    w.offer(call);
    call.emit('agentsExhausted', 'outside_business_hours');
    await new Promise((resolve) => setImmediate(resolve));
    expect(call.ended).toMatchObject({ endedBy: 'gateway', reason: 'outside_business_hours' });
  });
});
