import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentDirectory } from './agent-directory.js';

const sue = {
  id: 'sue',
  tenant: 'acme',
  password: 'secret',
  queues: ['sales'],
  maxCalls: 1,
  contact: 'sip:sue@pbx.acme.test',
};

describe('AgentDirectory wrap-up in a cluster', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('tells the cluster of its own wrap-up, not of one another gateway gave', () => {
    const directory = new AgentDirectory([sue]);
    const told: string[] = [];
    directory.on('localChange', (id) => told.push(id));
    directory.callStarted('sue')(5);
    expect(told).toEqual(['sue']);
    const until = directory.get('sue')?.wrapUpUntil;
    expect(directory.localState('sue')?.wrapUpUntil).toBe(until);

    const other = new AgentDirectory([sue]);
    other.on('localChange', (id) => told.push(id));
    other.setWrapUp('sue', until!, 'gw-b');
    expect(other.get('sue')).toMatchObject({ state: 'wrap-up', wrapUpUntil: until });
    expect(other.localState('sue')?.wrapUpUntil).toBeUndefined();
    expect(told).toEqual(['sue']);
    vi.advanceTimersByTime(5000);
    expect(other.get('sue')?.state).toBe('available');
    directory.close();
    other.close();
  });

  it('only lengthens a wrap-up; a fresh "available" ends it, the same one told again does not', () => {
    const directory = new AgentDirectory([sue]);
    const now = Date.now();
    directory.setAvailability('sue', 'available', 'gw-b', now - 1000);
    directory.setWrapUp('sue', now + 5000, 'gw-b');
    directory.setWrapUp('sue', now + 2000, 'gw-c'); // shorter: ignored
    directory.setWrapUp('sue', now - 1, 'gw-c'); // past: ignored
    expect(directory.get('sue')?.wrapUpUntil).toBe(now + 5000);
    // gw-b's next message carries its earlier choice again: still in wrap-up.
    directory.setAvailability('sue', 'available', 'gw-b', now - 1000);
    expect(directory.get('sue')?.state).toBe('wrap-up');
    // "Available" chosen on a desk now ends it everywhere.
    directory.setAvailability('sue', 'available', 'gw-c', now + 1);
    expect(directory.get('sue')?.state).toBe('available');
    directory.close();
  });
});
