import { afterEach, describe, expect, it, vi } from 'vitest';
import { CallbackScheduler, type CallbackSchedulerOptions } from './scheduler.js';

afterEach(() => {
  vi.useRealTimers();
});

function scheduler(over: Partial<CallbackSchedulerOptions> = {}) {
  const ran: string[] = [];
  let listener: () => void = () => undefined;
  const s = new CallbackScheduler({
    maxConcurrent: 10,
    now: () => Date.now(),
    freeAgents: () => 0,
    onAgentChange: (l) => {
      listener = l;
      return () => undefined;
    },
    run: (id) => {
      ran.push(id);
      return Promise.resolve();
    },
    expire: () => Promise.resolve(),
    ...over,
  });
  return { s, ran, agentChanged: () => listener() };
}

describe('CallbackScheduler', () => {
  it('runs a callback at its time, not before', async () => {
    vi.useFakeTimers({ now: 0 });
    const { s, ran } = scheduler();
    s.add({ id: 'a', dueAt: 300_000, waitFor: null, expiresAt: null });
    await vi.advanceTimersByTimeAsync(299_999);
    expect(ran).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual(['a']);
    s.close();
  });

  it('takes a retry added while its attempt runs, and runs it at the retry time', async () => {
    vi.useFakeTimers({ now: 0 });
    const ref: { s?: CallbackScheduler } = {};
    const { s: made, ran } = scheduler({
      run: (id) => {
        ran.push(id);
        // The attempt failed busy: the owner schedules the next one 120 s later.
        if (ran.length === 1)
          ref.s?.add({ id, dueAt: Date.now() + 120_000, waitFor: null, expiresAt: null });
        return Promise.resolve();
      },
    });
    ref.s = made;
    const s = made;
    s.add({ id: 'b', dueAt: 0, waitFor: null, expiresAt: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(ran).toEqual(['b']);
    expect(s.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(119_999);
    expect(ran).toEqual(['b']);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual(['b', 'b']);
    s.close();
  });

  it('runs an agent-free callback when its queue has a free agent, and expires one that waited too long', async () => {
    vi.useFakeTimers({ now: 0 });
    let free = 0;
    const expired: string[] = [];
    const { s, ran, agentChanged } = scheduler({
      freeAgents: (queue) => (queue === 'sales' ? free : 0),
      expire: (id) => {
        expired.push(id);
        return Promise.resolve();
      },
    });
    s.add({ id: 'c', dueAt: 0, waitFor: 'sales', expiresAt: 60_000 });
    s.add({ id: 'd', dueAt: 0, waitFor: 'support', expiresAt: 60_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ran).toEqual([]);
    free = 1;
    agentChanged();
    await vi.advanceTimersByTimeAsync(0);
    expect(ran).toEqual(['c']);
    await vi.advanceTimersByTimeAsync(50_000);
    expect(expired).toEqual(['d']);
    s.close();
  });

  it('tries again, later, an expiry that failed (the store unreachable), never running the callback in between', async () => {
    vi.useFakeTimers({ now: 0 });
    let free = 0;
    const expiries: number[] = [];
    const agains: boolean[] = [];
    const failed: [string, number][] = [];
    const { s, ran, agentChanged } = scheduler({
      freeAgents: () => free,
      expire: (_id, again) => {
        expiries.push(Date.now());
        agains.push(again);
        return expiries.length <= 2
          ? Promise.reject(new Error('connection refused'))
          : Promise.resolve();
      },
      onExpireFailed: (id, _error, failures) => failed.push([id, failures]),
    });
    s.add({ id: 'x', dueAt: 0, waitFor: 'sales', expiresAt: 1000 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(expiries).toEqual([1000]);
    expect(failed).toEqual([['x', 1]]);
    // Held for its retry: a free agent now does not run it (its wait is over), nor does add().
    expect(s.has('x')).toBe(true);
    free = 1;
    agentChanged();
    s.add({ id: 'x', dueAt: 0, waitFor: 'sales', expiresAt: 60_000 });
    // 1 s after the first failure, 2 s after the second; then expired and gone.
    await vi.advanceTimersByTimeAsync(3000);
    expect(expiries).toEqual([1000, 2000, 4000]);
    // The retries say so (a row found ended `expired` is then the first try's, its answer lost).
    expect(agains).toEqual([false, true, true]);
    expect(failed).toEqual([
      ['x', 1],
      ['x', 2],
    ]);
    expect(ran).toEqual([]);
    expect(s.has('x')).toBe(false);
    s.close();
  });

  it('runs again, later, a callback whose run failed (the store unreachable at its time)', async () => {
    vi.useFakeTimers({ now: 0 });
    const failed: [string, number][] = [];
    const { s, ran } = scheduler({
      run: (id) => {
        ran.push(id);
        return ran.length <= 2
          ? Promise.reject(new Error('connection refused'))
          : Promise.resolve();
      },
      onRunFailed: (id, _error, failures) => failed.push([id, failures]),
    });
    s.add({ id: 'e', dueAt: 0, waitFor: null, expiresAt: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(ran).toEqual(['e']);
    expect(s.waiting).toBe(1);
    // 1 s after the first failure, 2 s after the second; then it ran and is gone.
    await vi.advanceTimersByTimeAsync(999);
    expect(ran).toEqual(['e']);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual(['e', 'e']);
    await vi.advanceTimersByTimeAsync(2000);
    expect(ran).toEqual(['e', 'e', 'e']);
    expect(failed).toEqual([
      ['e', 1],
      ['e', 2],
    ]);
    expect(s.waiting).toBe(0);
    s.close();
  });

  it('a failed run the runner owes (claimed, or its end unwritten) runs again without waiting for an agent nor expiring; one it does not owe keeps its wait', async () => {
    vi.useFakeTimers({ now: 0 });
    let free = 2;
    const expired: string[] = [];
    const { s, ran } = scheduler({
      freeAgents: () => free,
      run: (id) => {
        ran.push(id);
        return ran.filter((r) => r === id).length === 1
          ? Promise.reject(new Error('connection reset'))
          : Promise.resolve();
      },
      expire: (id) => {
        expired.push(id);
        return Promise.resolve();
      },
      owes: (id) => id === 'owed',
      retryDelayMs: () => 2000,
    });
    s.add({ id: 'owed', dueAt: 0, waitFor: 'sales', expiresAt: 1000 });
    s.add({ id: 'free', dueAt: 0, waitFor: 'sales', expiresAt: 1000 });
    // Both run (two agents free) and fail; no agent is free from then on.
    await vi.advanceTimersByTimeAsync(0);
    expect(ran).toEqual(['owed', 'free']);
    free = 0;
    await vi.advanceTimersByTimeAsync(1000);
    expect(expired).toEqual(['free']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ran).toEqual(['owed', 'free', 'owed']);
    expect(expired).toEqual(['free']);
    expect(s.has('owed')).toBe(false);
    s.close();
  });
});
