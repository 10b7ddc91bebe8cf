import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentDirectory } from './agent-directory.js';
import type { AgentPresence } from './agent-types.js';

const sue = {
  id: 'sue',
  tenant: 'acme',
  password: 'secret',
  queues: ['sales'],
  maxCalls: 1,
  contact: 'sip:sue@pbx.acme.test',
};

/** Another gateway's calls of an agent (`cluster/agent-calls.ts`): shown here, until they lapse. */
describe('AgentDirectory: calls on other gateways', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows ringing and busy told by another gateway, and tells the cluster only of its own', () => {
    const directory = new AgentDirectory([sue], () => Date.now());
    const shown: AgentPresence[] = [];
    const told: string[] = [];
    directory.on('change', (p) => shown.push(p));
    directory.on('localCalls', (id) => told.push(id));
    const until = Date.now() + 10_000;
    directory.setRemoteCalls('sue', 'gw-a', { ringing: 1, activeCalls: 0, until });
    expect(directory.get('sue')).toMatchObject({ state: 'ringing', ringing: 1, activeCalls: 0 });
    directory.setRemoteCalls('sue', 'gw-a', { ringing: 0, activeCalls: 1, until: until + 1 });
    expect(directory.get('sue')).toMatchObject({ state: 'busy', ringing: 0, activeCalls: 1 });
    expect(shown.map((p) => p.state)).toEqual(['ringing', 'busy']);
    expect(told).toEqual([]);
    expect(directory.localState('sue')).toMatchObject({ ringing: 0, activeCalls: 0 });
    // Its own calls are told, and counted with the others'.
    const stop = directory.ringStarted('sue');
    expect(directory.get('sue')).toMatchObject({ ringing: 1, activeCalls: 1 });
    stop();
    expect(told).toEqual(['sue', 'sue']);
    directory.close();
  });

  it('clears a gateway whose calls are gone from Redis (a reload): free and idle from now, told once', () => {
    const directory = new AgentDirectory([sue], () => Date.now());
    const shown: AgentPresence[] = [];
    directory.setRemoteCalls('sue', 'gw-a', {
      ringing: 0,
      activeCalls: 1,
      until: Date.now() + 60_000,
    });
    expect(directory.remoteOrigins('sue').calls).toEqual(['gw-a']);
    directory.on('change', (p) => shown.push(p));
    vi.advanceTimersByTime(1_000);
    directory.clearRemoteCalls('sue', 'gw-a');
    expect(directory.get('sue')).toMatchObject({ activeCalls: 0, idleSince: Date.now() });
    expect(directory.remoteOrigins('sue').calls).toEqual([]);
    expect(shown).toHaveLength(1);
    // Nothing left to lapse later.
    vi.advanceTimersByTime(120_000);
    expect(shown).toHaveLength(1);
    directory.close();
  });

  it('ignores an older telling than the one it holds (a read of Redis overtaken by a message)', () => {
    const directory = new AgentDirectory([sue], () => Date.now());
    const at = Date.now();
    directory.setRemoteCalls('sue', 'gw-a', { ringing: 0, activeCalls: 0, until: at + 10_000 });
    directory.setRemoteCalls('sue', 'gw-a', { ringing: 0, activeCalls: 1, until: at + 9_000 });
    expect(directory.get('sue')?.state).toBe('available');
    // Already lapsed: not taken.
    directory.setRemoteCalls('sue', 'gw-b', { ringing: 1, activeCalls: 0, until: at });
    expect(directory.get('sue')?.state).toBe('available');
    directory.close();
  });

  it('drops a gateway’s calls when they lapse unrenewed, says so, and counts the agent idle from then', () => {
    const directory = new AgentDirectory([sue], () => Date.now());
    const idleBefore = directory.get('sue')?.idleSince;
    const shown: string[] = [];
    directory.on('change', (p) => shown.push(p.state));
    directory.setRemoteCalls('sue', 'gw-dead', {
      ringing: 0,
      activeCalls: 1,
      until: Date.now() + 10_000,
    });
    vi.advanceTimersByTime(9_999);
    expect(directory.get('sue')?.state).toBe('busy');
    vi.advanceTimersByTime(1);
    expect(shown).toEqual(['busy', 'available']);
    const now = directory.get('sue');
    expect(now).toMatchObject({ state: 'available', activeCalls: 0 });
    expect(now?.idleSince).toBe(Date.now());
    expect(now?.idleSince).not.toBe(idleBefore);
    directory.close();
  });

  it('counts the agent idle from the end of a call on another gateway (longest-idle routing)', () => {
    const directory = new AgentDirectory([sue], () => Date.now());
    const until = Date.now() + 10_000;
    directory.setRemoteCalls('sue', 'gw-a', { ringing: 0, activeCalls: 1, until });
    vi.advanceTimersByTime(3000);
    directory.setRemoteCalls('sue', 'gw-a', { ringing: 0, activeCalls: 0, until: until + 3000 });
    expect(directory.get('sue')).toMatchObject({ state: 'available', idleSince: Date.now() });
    directory.close();
  });
});
