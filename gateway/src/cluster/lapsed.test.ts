import { describe, expect, it } from 'vitest';
import { lapsedInstanceList, lapsedInstances } from './lapsed.js';

describe('lapsedInstances', () => {
  it('keeps the candidates whose lease lapsed, in order', async () => {
    const leases = new Set(['gw-b']);
    const alive = (instance: string) => Promise.resolve(leases.has(instance));
    expect(await lapsedInstanceList(['gw-a', 'gw-b', 'gw-c'], alive)).toEqual(['gw-a', 'gw-c']);
  });

  it('asks about each candidate when reached, and stops when told', async () => {
    const asked: string[] = [];
    const leases = new Set<string>();
    const alive = (instance: string) => {
      asked.push(instance);
      return Promise.resolve(leases.has(instance));
    };
    let stopped = false;
    const seen: string[] = [];
    for await (const instance of lapsedInstances(['a', 'b', 'c', 'd'], alive, () => stopped)) {
      seen.push(instance);
      // Work on `a` renews `b`'s lease: `b` is asked after it, and is not lapsed.
      if (instance === 'a') leases.add('b');
      if (instance === 'c') stopped = true;
    }
    expect(seen).toEqual(['a', 'c']);
    expect(asked).toEqual(['a', 'b', 'c']);
  });
});
