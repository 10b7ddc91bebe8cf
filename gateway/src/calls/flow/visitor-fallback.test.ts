import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../config/index.js';
import type { FlowRef } from '../../flows/index.js';
import { createLogger } from '../../observability/index.js';
import type { Call } from '../call.js';
import { visitorFallbacks, visitorFlow, type VisitorQueues } from './visitor-fallback.js';

type QueueConfig = Config['queues'][string];

/** The queues' part of a config: `sales` with `extra`, tenant `acme` with `tenant`. */
function config(
  queues: Record<string, Partial<QueueConfig>>,
  tenant: { defaultFlow?: string } = {},
): Pick<Config, 'queues' | 'tenants'> {
  return {
    queues: Object.fromEntries(
      Object.entries(queues).map(([name, q]) => [name, { tenant: 'acme', ...q } as QueueConfig]),
    ),
    tenants: { acme: tenant as Config['tenants'][string] },
  };
}

/** Queues whose closed ones are listed; the fallback names what it was asked. */
function queues(closed: string[] = []): VisitorQueues & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    isOpen: (queue) => !closed.includes(queue),
    fallback: (queue, status, moreVerbs) => {
      asked.push(`${queue}:${status}:${moreVerbs}`);
      return { flow: `${queue}-${status}` };
    },
  };
}

const waiting = {} as NonNullable<QueueConfig['waiting']>;
const voicemail = {} as NonNullable<QueueConfig['voicemail']>;

describe('visitorFlow', () => {
  it("outside business hours: the queue's closed chain (closed flow, voicemail, tenant default, apology)", () => {
    const q = queues(['sales']);
    expect(visitorFlow({ config: config({ sales: {} }), queues: q }, 'sales')).toEqual({
      flow: { flow: 'sales-closed' },
      closed: true,
    });
    // No verbs follow: the chain goes to its end (`WaitingQueues.fallback`).
    expect(q.asked).toEqual(['sales:closed:false']);
    // Even a queue with `waiting` does not wait while closed.
    expect(visitorFlow({ config: config({ sales: { waiting } }), queues: q }, 'sales')).toEqual({
      flow: { flow: 'sales-closed' },
      closed: true,
    });
  });

  it('outside business hours, a queue with voicemail and no closed flow is voicemail’s', () => {
    const c = config({ sales: { voicemail } });
    expect(visitorFlow({ config: c, queues: queues(['sales']) }, 'sales')).toBeUndefined();
    const named = config({ sales: { voicemail, flows: { closed: 'shut' } } });
    expect(visitorFlow({ config: named, queues: queues(['sales']) }, 'sales')?.closed).toBe(true);
  });

  it('open: waits with `waiting`, else the noAnswer flow, else the tenant default, else nothing', () => {
    const q = queues();
    expect(visitorFlow({ config: config({ sales: { waiting } }), queues: q }, 'sales')).toEqual({
      flow: { builtin: 'queue.sales', verbs: [{ verb: 'enqueue', queue: 'sales' }] },
      closed: false,
    });
    const noAnswer = config({ sales: { flows: { noAnswer: 'sorry' } } }, { defaultFlow: 'house' });
    expect(visitorFlow({ config: noAnswer, queues: q }, 'sales')).toEqual({
      flow: 'sorry',
      closed: false,
    });
    const house = config({ sales: {} }, { defaultFlow: 'house' });
    expect(visitorFlow({ config: house, queues: q }, 'sales')).toEqual({
      flow: 'house',
      closed: false,
    });
    expect(visitorFlow({ config: config({ sales: {} }), queues: q }, 'sales')).toBeUndefined();
    // Voicemail answers a queue without `waiting`, before any tenant default.
    const boxed = config({ sales: { voicemail } }, { defaultFlow: 'house' });
    expect(visitorFlow({ config: boxed, queues: q }, 'sales')).toBeUndefined();
    expect(q.asked).toEqual([]);
  });

  it('an unknown queue is not ours', () => {
    expect(visitorFlow({ config: config({}), queues: queues() }, 'nope')).toBeUndefined();
  });
});

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

function wire(c: Pick<Config, 'queues' | 'tenants'>, q: VisitorQueues, run?: () => Promise<void>) {
  let listener: ((call: Call) => void) | undefined;
  const runs: [string, string | FlowRef][] = [];
  visitorFallbacks({
    config: c,
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
  it('a closed queue: no agent is rung, the call stays up, and the closed flow runs when the ring gives up', () => {
    const w = wire(config({ sales: {} }), queues(['sales']));
    const call = new FakeCall({ queue: 'sales' });
    w.offer(call);
    expect(call.skipped).toBe('outside_business_hours');
    expect(call.kept).toBe(true);
    expect(w.runs).toEqual([]);
    call.emit('agentsExhausted', 'outside_business_hours');
    expect(w.runs).toEqual([['call-1', { flow: 'sales-closed' }]]);
  });

  it('an open queue rings its agents first; only the tenant default runs after', () => {
    const w = wire(config({ sales: {} }, { defaultFlow: 'house' }), queues());
    const call = new FakeCall({ queue: 'sales' });
    w.offer(call);
    expect(call.skipped).toBeUndefined();
    expect(call.kept).toBe(true);
    call.emit('agentsExhausted', 'no_agent_available');
    expect(w.runs).toEqual([['call-1', 'house']]);
  });

  it('leaves alone trunk calls, calls without a queue, queues with nothing to run, and ended calls', () => {
    const w = wire(config({ sales: {} }), queues());
    const trunk = new FakeCall({ queue: 'sales' });
    trunk.token = undefined;
    const noQueue = new FakeCall({ queue: undefined });
    const nothing = new FakeCall({ queue: 'sales' });
    for (const call of [trunk, noQueue, nothing]) {
      w.offer(call);
      expect(call.kept).toBe(false);
      call.emit('agentsExhausted', 'no_agent_available');
    }
    const closed = wire(config({ sales: {} }), queues(['sales']));
    const ended = new FakeCall({ queue: 'sales' });
    closed.offer(ended);
    ended.ending = true;
    ended.emit('agentsExhausted', 'outside_business_hours');
    expect([...w.runs, ...closed.runs]).toEqual([]);
  });

  it('a flow that fails ends the call with the reason no agent took it', async () => {
    const w = wire(config({ sales: {} }), queues(['sales']), () =>
      Promise.reject(new Error('boom')),
    );
    const call = new FakeCall({ queue: 'sales' });
    w.offer(call);
    call.emit('agentsExhausted', 'outside_business_hours');
    await new Promise((resolve) => setImmediate(resolve));
    expect(call.ended).toMatchObject({ endedBy: 'gateway', reason: 'outside_business_hours' });
  });
});
