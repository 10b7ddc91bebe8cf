import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import type { SipStack } from '../sip/index.js';
import { LostGatewaySweeper } from './lost-gateways.js';
import { ClusterMetrics } from './metrics.js';

/**
 * The sweeper over a fake clock and a fake lease source: Redis that lost every
 * lease key (restarted empty) must not make the live gateways look lost.
 */
function sweeper(o: { owners: string[]; leases: Set<string> }) {
  let clock = 1_000_000;
  const closed: string[] = [];
  const recovered: string[] = [];
  const subject = new LostGatewaySweeper({
    records: {
      openOwners: () => Promise.resolve([...o.owners, 'gw-self']),
      closeOwned: (owner) => {
        closed.push(owner);
        return Promise.resolve([]);
      },
    },
    presence: { instanceId: 'gw-self', alive: (id) => Promise.resolve(o.leases.has(id)) },
    // Never reached: the fake records have no call to hang up.
    stack: {} as SipStack,
    metrics: new ClusterMetrics(new Registry()),
    logger: createLogger('silent'),
    now: () => clock,
    heartbeatSeconds: 2,
    leaseSeconds: 10,
    modules: [
      {
        name: 'fake',
        openOwners: () => Promise.resolve([]),
        recoverLost: (owner) => Promise.resolve(recovered.push(owner)),
      },
    ],
  });
  return {
    subject,
    closed,
    recovered,
    advance: (ms: number) => (clock += ms),
  };
}

describe('LostGatewaySweeper', () => {
  it('takes no gateway for lost when every lease is gone once and written back within the lease', async () => {
    const leases = new Set<string>();
    const s = sweeper({ owners: ['gw-a', 'gw-b'], leases });
    // Redis restarted empty: no lease at all, this gateway's own gone too.
    await s.subject.sweep();
    expect(s.closed).toEqual([]);
    // The live gateways beat again within their heartbeat.
    s.advance(2000);
    leases.add('gw-a').add('gw-b');
    await s.subject.sweep();
    // A lease later, and later still: they hold their leases, nothing was closed.
    s.advance(10_000);
    await s.subject.sweep();
    s.advance(10_000);
    await s.subject.sweep();
    expect(s.closed).toEqual([]);
    expect(s.recovered).toEqual([]);
    s.subject.close();
  });

  it('takes a gateway for lost once its lease was missing on two sweeps a lease apart, never itself', async () => {
    const leases = new Set(['gw-a']);
    const s = sweeper({ owners: ['gw-a', 'gw-dead'], leases });
    await s.subject.sweep(); // first seen missing
    s.advance(2000);
    await s.subject.sweep();
    s.advance(7999); // 9999 ms after the first look: not yet a lease
    await s.subject.sweep();
    expect(s.closed).toEqual([]);
    s.advance(1);
    await s.subject.sweep();
    expect(s.closed).toEqual(['gw-dead']);
    expect(s.recovered).toEqual(['gw-dead']);
    s.subject.close();
  });

  it('starts counting again when a lease is seen held between two looks', async () => {
    const leases = new Set<string>();
    const s = sweeper({ owners: ['gw-a'], leases });
    await s.subject.sweep(); // missing
    s.advance(5000);
    leases.add('gw-a');
    await s.subject.sweep(); // held: the first look no longer counts
    leases.delete('gw-a');
    s.advance(1000);
    await s.subject.sweep(); // missing again: the count starts here
    s.advance(9000);
    await s.subject.sweep(); // 15 s after the first look, 9 s after this one
    expect(s.closed).toEqual([]);
    s.advance(1000);
    await s.subject.sweep();
    expect(s.closed).toEqual(['gw-a']);
    s.subject.close();
  });

  it('starts counting again after a gap of more than a lease between looks (no sweep could run)', async () => {
    const leases = new Set<string>();
    const s = sweeper({ owners: ['gw-a'], leases });
    await s.subject.sweep(); // missing
    // The sweeper could not look for 11 s (its database was down), then Redis came back empty.
    s.advance(11_000);
    await s.subject.sweep(); // missing again, but after the gap: the count starts here
    expect(s.closed).toEqual([]);
    for (let i = 0; i < 4; i += 1) {
      s.advance(2000);
      await s.subject.sweep();
    }
    expect(s.closed).toEqual([]); // 8 s of looks
    s.advance(2000);
    await s.subject.sweep();
    expect(s.closed).toEqual(['gw-a']);
    s.subject.close();
  });
});
