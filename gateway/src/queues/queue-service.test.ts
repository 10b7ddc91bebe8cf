import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { compileBusinessHours } from '@parley/shared/screening';
import type { DialAttempt } from '../flows/ports.js';
import type { JoinRequest, QueueTicket } from '../flows/queue-port.js';
import { fakeBridge, fakeContext } from '../flows/testing/fake-call.js';
import { createLogger } from '../observability/index.js';
import { estimatedWaitSeconds } from './estimated-wait.js';
import { QueueService, type QueueDefinition } from './queue-service.js';
import { MemoryQueueState, type QueueState } from './queue-state.js';
import { FakeAgents } from './testing/fake-agents.js';

interface Offer {
  readonly agentId: string;
  answer(): void;
  decline(status?: 'no-answer' | 'busy' | 'failed'): void;
}

interface Caller {
  readonly id: string;
  readonly request: JoinRequest;
  readonly offers: Offer[];
  readonly hungUp: AbortController;
}

function setup(
  options: {
    queues?: Record<string, Partial<QueueDefinition>>;
    state?: QueueState;
    agents?: FakeAgents;
  } = {},
) {
  let clock = 1_000_000;
  const agents = options.agents ?? new FakeAgents();
  const queues: Record<string, QueueDefinition> = {};
  for (const [name, q] of Object.entries(options.queues ?? { sales: {} }))
    queues[name] = { tenant: 'acme', ringTimeoutSeconds: 20, waiting: undefined, ...q };
  const service = new QueueService({
    queues,
    state: options.state ?? new MemoryQueueState(),
    agents,
    logger: createLogger('silent'),
    now: () => clock,
  });
  const callers = new Map<string, Caller>();
  /** Every offer made, in order: [callId, agentId]. */
  const offers: [string, string][] = [];
  const caller = (
    id: string,
    value = 0,
    extra: { queue?: string; tier?: string; maxWaitSeconds?: number } = {},
  ): Caller => {
    clock += 1000;
    const list: Offer[] = [];
    const hungUp = new AbortController();
    const request: JoinRequest = {
      queue: extra.queue ?? 'sales',
      context: fakeContext({ callId: id, value: { value, tier: extra.tier ?? 'standard' } }),
      maxWaitSeconds: extra.maxWaitSeconds ?? 600,
      offer: (agentId) =>
        new Promise<DialAttempt>((resolve) => {
          offers.push([id, agentId]);
          list.push({
            agentId,
            answer: () => {
              agents.set(agentId, 'busy');
              resolve({ status: 'answered', bridge: fakeBridge(agentId) });
            },
            decline: (status = 'no-answer') => resolve({ status }),
          });
        }),
    };
    const c = { id, request, offers: list, hungUp };
    callers.set(id, c);
    return c;
  };
  const join = async (c: Caller): Promise<QueueTicket> => {
    const result = await service.join(c.request);
    if (!result.ok) throw new Error(`refused: ${result.reason}`);
    return result.ticket;
  };
  return { service, agents, caller, join, offers, tick: (ms: number) => (clock += ms) };
}

const positions = (tickets: Record<string, QueueTicket>) =>
  Object.fromEntries(Object.entries(tickets).map(([k, t]) => [k, t.position]));

describe('QueueService', () => {
  it('orders callers by value, then by how long they have waited', async () => {
    const s = setup();
    s.agents.add('alice', ['sales']);
    const a = await s.join(s.caller('a', 10));
    const b = await s.join(s.caller('b', 50));
    const c = await s.join(s.caller('c', 10));
    const d = await s.join(s.caller('d', 50));
    expect(positions({ a, b, c, d })).toEqual({ b: 1, d: 2, a: 3, c: 4 });
    expect(b.estimatedWaitSeconds).toBe(120); // 1 × 120 s / 1 agent
    expect(c.estimatedWaitSeconds).toBe(480);
  });

  it('gives a freed agent the next caller at once, event-driven', async () => {
    const s = setup();
    s.agents.add('alice', ['sales']);
    const a = s.caller('a', 10);
    const b = s.caller('b', 50);
    await s.join(a);
    const tb = await s.join(b);
    const offered = once(s.service, 'offered');
    s.agents.set('alice', 'available');
    const [entry, agentId] = (await offered) as [{ callId: string }, string];
    expect([entry.callId, agentId]).toEqual(['b', 'alice']);
    expect(tb.offeredTo).toBe('alice');
    b.offers[0]!.answer();
    const end = await tb.done;
    expect(end).toMatchObject({ status: 'bridged', agentId: 'alice' });
    expect(await s.service.size('sales')).toBe(1);
  });

  it('moves the others up when a caller hangs up, and the one who left is out at once', async () => {
    const s = setup();
    s.agents.add('alice', ['sales']);
    const ta = await s.join(s.caller('a'));
    const tb = await s.join(s.caller('b'));
    const tc = await s.join(s.caller('c'));
    const moved = once(tc, 'position');
    ta.leave('hangup');
    expect(await ta.done).toEqual({ status: 'hangup' });
    await moved;
    expect(positions({ b: tb, c: tc })).toEqual({ b: 1, c: 2 });
    expect(await s.service.size('sales')).toBe(2);
    // The one who left is never offered.
    const offered = once(s.service, 'offered');
    s.agents.set('alice', 'available');
    expect(((await offered) as [{ callId: string }])[0].callId).toBe('b');
  });

  it('a caller offered to an agent who does not answer goes back to its place, and another agent gets it', async () => {
    const s = setup();
    s.agents.add('alice', ['sales']);
    s.agents.add('bob', ['sales']);
    const a = s.caller('a', 5);
    const ta = await s.join(a);
    const tb = await s.join(s.caller('b', 1));
    s.agents.set('alice', 'available');
    await once(s.service, 'offered');
    expect(ta.offeredTo).toBe('alice');
    const declined = once(ta, 'declined');
    const placed = once(ta, 'position');
    const again = once(s.service, 'offered');
    a.offers[0]!.decline('no-answer');
    await declined;
    expect(await placed).toEqual([1, 60]); // 1 × 120 s / 2 agents
    // alice is still "available" but let a ring out: b (next) gets alice, a waits for someone else.
    await again;
    expect(s.offers).toEqual([
      ['a', 'alice'],
      ['b', 'alice'],
    ]);
    const offered = once(s.service, 'offered');
    s.agents.set('bob', 'available');
    expect(((await offered) as [{ callId: string }, string])[1]).toBe('bob');
    expect(s.offers.at(-1)).toEqual(['a', 'bob']);
    expect(tb.offeredTo).toBe('alice');
  });

  it('serves a value band only from the agent tiers of its band', async () => {
    const s = setup();
    s.agents.bands.set('sales', { high: ['senior'], standard: ['junior', 'senior'] });
    s.agents.add('jim', ['sales'], { tier: 'junior' });
    s.agents.add('sue', ['sales'], { tier: 'senior' });
    const vip = await s.join(s.caller('vip', 500, { tier: 'high' }));
    await s.join(s.caller('std', 1, { tier: 'standard' }));
    expect(vip.position).toBe(1);
    const offered = once(s.service, 'offered');
    s.agents.set('jim', 'available');
    expect(((await offered) as [{ callId: string }, string])[0].callId).toBe('std');
    expect(vip.offeredTo).toBeUndefined();
    const next = once(s.service, 'offered');
    s.agents.set('sue', 'available');
    expect(((await next) as [{ callId: string }, string])[0].callId).toBe('vip');
  });

  it('ends the wait at maxWaitSeconds, and the fallback is the queue flow or the built-in apology', async () => {
    const s = setup({ queues: { sales: {}, support: { flows: { maxWait: 'voicemail' } } } });
    s.agents.add('alice', ['sales', 'support']);
    const t = await s.join(s.caller('a', 0, { maxWaitSeconds: 0.05 }));
    expect(await t.done).toEqual({ status: 'timeout' });
    expect(await s.service.size('sales')).toBe(0);
    expect(s.service.fallback('support', 'timeout', false)).toEqual({ flow: 'voicemail' });
    expect(s.service.fallback('sales', 'timeout', true)).toBeUndefined();
    expect(s.service.fallback('sales', 'timeout', false)).toMatchObject({
      builtin: 'parley.unavailable',
      verbs: [{ verb: 'say' }, { verb: 'hangup', reason: 'queue_timeout' }],
    });
  });

  it('falls back, with no verbs left, to the queue flow, its voicemail, the tenant default flow, then the apology', () => {
    const closed = compileBusinessHours({ timeZone: 'UTC', weekly: {} });
    const s = setup({
      queues: {
        named: { flows: { closed: 'shut' }, voicemail: true, defaultFlow: 'house' },
        boxed: { voicemail: true, defaultFlow: 'house' },
        house: { defaultFlow: 'house', businessHours: closed },
        bare: {},
      },
    });
    expect(s.service.fallback('named', 'closed', false)).toEqual({ flow: 'shut' });
    expect(s.service.fallback('named', 'no-agents', true)).toBeUndefined();
    expect(s.service.fallback('boxed', 'closed', false)).toMatchObject({
      builtin: 'parley.voicemail',
      verbs: [{ verb: 'voicemail', queue: 'boxed', cause: 'closed' }],
    });
    expect(s.service.fallback('house', 'closed', false)).toEqual({ flow: 'house' });
    expect(s.service.fallback('house', 'timeout', true)).toBeUndefined();
    expect(s.service.fallback('bare', 'closed', false)).toMatchObject({
      builtin: 'parley.unavailable',
      verbs: [{ verb: 'say' }, { verb: 'hangup', reason: 'outside_business_hours' }],
    });
    expect(s.service.isOpen('house')).toBe(false);
    expect(s.service.isOpen('bare')).toBe(true);
  });

  it("a dial of a queue no agent took falls to the queue's box only when it has voicemail", () => {
    const closedAlways = { isOpen: () => false } as unknown as QueueDefinition['businessHours'];
    const s = setup({
      queues: {
        sales: {},
        support: { voicemail: true },
        night: { voicemail: true, businessHours: closedAlways },
        billing: { voicemail: true, flows: { noAnswer: 'sorry' } },
      },
    });
    // No voicemail: the flow goes on as before (no apology added to a dial).
    expect(s.service.dialFallback('sales', 'acme', false)).toBeUndefined();
    expect(s.service.dialFallback('support', 'acme', false)).toEqual({
      builtin: 'parley.voicemail',
      verbs: [{ verb: 'voicemail', queue: 'support', cause: 'no-answer' }],
    });
    expect(s.service.dialFallback('night', 'acme', false)).toMatchObject({
      verbs: [{ verb: 'voicemail', queue: 'night', cause: 'closed' }],
    });
    // The queue's own flow for the case first, as for an enqueue; verbs after the dial: the flow's.
    expect(s.service.dialFallback('billing', 'acme', false)).toEqual({ flow: 'sorry' });
    expect(s.service.dialFallback('support', 'acme', true)).toBeUndefined();
    // Another tenant's queue, or none: nothing.
    expect(s.service.dialFallback('support', 'other', false)).toBeUndefined();
    expect(s.service.dialFallback('nope', 'acme', false)).toBeUndefined();
  });

  it('a max wait that passes while an agent rings ends the wait only if that agent does not answer', async () => {
    const s = setup();
    s.agents.add('alice', ['sales'], { state: 'available' });
    const a = s.caller('a', 0, { maxWaitSeconds: 0.05 });
    const t = await s.join(a);
    expect(t.offeredTo).toBe('alice');
    await new Promise((r) => setTimeout(r, 80)); // the max wait passes while it rings (not a synchronisation: the offer is held by the test)
    a.offers[0]!.decline();
    expect(await t.done).toEqual({ status: 'timeout' });
  });

  it('refuses to queue when closed, unstaffed, full, or for another tenant', async () => {
    const closed = compileBusinessHours({ timeZone: 'UTC', weekly: {} });
    const s = setup({
      queues: {
        sales: {
          waiting: { ...(await import('./queue-service.js')).DEFAULT_WAITING, maxCallers: 1 },
        },
        night: { businessHours: closed },
        empty: {},
      },
    });
    s.agents.add('alice', ['sales', 'night']);
    await s.join(s.caller('a'));
    expect(await s.service.join(s.caller('b').request)).toEqual({ ok: false, reason: 'full' });
    expect(await s.service.join(s.caller('c', 0, { queue: 'night' }).request)).toEqual({
      ok: false,
      reason: 'closed',
    });
    expect(await s.service.join(s.caller('d', 0, { queue: 'empty' }).request)).toEqual({
      ok: false,
      reason: 'no-agents',
    });
    expect(await s.service.join(s.caller('e', 0, { queue: 'nope' }).request)).toEqual({
      ok: false,
      reason: 'unknown',
    });
    const other = s.caller('f');
    expect(
      await s.service.join({
        ...other.request,
        context: { ...other.request.context, tenant: 'globex' },
      }),
    ).toEqual({ ok: false, reason: 'unknown' });
  });

  it('never offers an agent two callers nor a caller two agents when agents free up at once', async () => {
    // A state whose every operation takes a turn of the event loop (as Redis would), so passes interleave.
    const slow = new SlowState(new MemoryQueueState());
    const s = setup({ state: slow, queues: { sales: {}, support: {} } });
    const names = ['a1', 'a2', 'a3', 'a4', 'a5'];
    for (const name of names) s.agents.add(name, ['sales', 'support']);
    for (let i = 0; i < 8; i += 1) await s.join(s.caller(`s${i}`, i % 3));
    for (let i = 0; i < 8; i += 1) await s.join(s.caller(`p${i}`, 0, { queue: 'support' }));
    let offered = 0;
    const all = new Promise<void>((resolve) =>
      s.service.on('offered', () => {
        offered += 1;
        if (offered === names.length) resolve();
      }),
    );
    // Every agent frees in the same turn; each change pokes both queues.
    for (const name of names) s.agents.set(name, 'available');
    await all;
    await Promise.all([s.service.size('sales'), s.service.size('support')]);
    const agents = s.offers.map(([, agent]) => agent);
    const calls = s.offers.map(([call]) => call);
    expect(new Set(agents).size).toBe(agents.length);
    expect(new Set(calls).size).toBe(calls.length);
    expect(agents.length).toBe(names.length);
    // In each queue, the callers offered first are the best ones.
    const sales = s.offers.filter(([c]) => c.startsWith('s')).map(([c]) => c);
    const best = ['s2', 's5', 's1', 's4', 's7', 's0', 's3', 's6'].slice(0, sales.length);
    expect(sales).toEqual(best);
  });
});

describe('estimatedWaitSeconds', () => {
  it('is position × handle time / staffed agents, null without agents', () => {
    expect(estimatedWaitSeconds(1, { agents: 2, meanHandleSeconds: 300 }, 180)).toBe(150);
    expect(estimatedWaitSeconds(5, { agents: 2, meanHandleSeconds: 300 }, 180)).toBe(750);
    expect(estimatedWaitSeconds(3, { agents: 1, meanHandleSeconds: undefined }, 180)).toBe(540);
    expect(estimatedWaitSeconds(3, { agents: 0, meanHandleSeconds: 300 }, 180)).toBeNull();
  });
});

/** Delays every operation by a turn of the event loop. */
class SlowState implements QueueState {
  constructor(private readonly inner: QueueState) {}
  #later<T>(f: () => Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => setImmediate(() => f().then(resolve, reject)));
  }
  add(...a: Parameters<QueueState['add']>) {
    return this.#later(() => this.inner.add(...a));
  }
  remove(...a: Parameters<QueueState['remove']>) {
    return this.#later(() => this.inner.remove(...a));
  }
  waiting(...a: Parameters<QueueState['waiting']>) {
    return this.#later(() => this.inner.waiting(...a));
  }
  size(...a: Parameters<QueueState['size']>) {
    return this.#later(() => this.inner.size(...a));
  }
  claim(...a: Parameters<QueueState['claim']>) {
    return this.#later(() => this.inner.claim(...a));
  }
  decline(...a: Parameters<QueueState['decline']>) {
    return this.#later(() => this.inner.decline(...a));
  }
  offers() {
    return this.#later(() => this.inner.offers());
  }
}
