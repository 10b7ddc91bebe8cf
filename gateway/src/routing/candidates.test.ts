import { describe, expect, it } from 'vitest';
import { AgentDirectory, type AgentConfig } from '../agents/index.js';
import { rankCandidates, type QueueRouting } from './candidates.js';

const agent = (id: string, tier: string, extra: Partial<AgentConfig> = {}): AgentConfig => ({
  id,
  tenant: 'acme',
  password: 'x',
  queues: ['sales'],
  maxCalls: 1,
  tier,
  ...extra,
});

function setup(now: { t: number }) {
  const directory = new AgentDirectory(
    [
      agent('senior-a', 'senior'),
      agent('senior-b', 'senior'),
      agent('junior-a', 'junior'),
      agent('other-tenant', 'senior', { tenant: 'other' }),
    ],
    () => now.t,
  );
  for (const id of ['senior-a', 'senior-b', 'junior-a', 'other-tenant']) {
    directory.setContacts(id, [
      { uri: `sip:${id}@127.0.0.1`, expiresAt: Number.POSITIVE_INFINITY, flowId: undefined },
    ]);
    now.t += 1000;
  }
  return directory;
}

const routing: QueueRouting = {
  strategy: 'sequential',
  ringAtOnce: 1,
  bands: { high: ['senior', 'junior'], standard: ['junior'] },
};

describe('rankCandidates', () => {
  it('puts the band’s preferred tier first, then the longest idle', () => {
    const now = { t: 1_000_000 };
    const directory = setup(now);
    const high = rankCandidates(
      directory,
      { tenant: 'acme', queue: 'sales', valueTier: 'high', routing },
      now.t,
    );
    expect(high.map((c) => c.agent.id)).toEqual(['senior-a', 'senior-b', 'junior-a']);
    const standard = rankCandidates(
      directory,
      { tenant: 'acme', queue: 'sales', valueTier: 'standard', routing },
      now.t,
    );
    expect(standard.map((c) => c.agent.id)).toEqual(['junior-a']);
    const unknownBand = rankCandidates(
      directory,
      { tenant: 'acme', queue: 'sales', valueTier: 'vip', routing },
      now.t,
    );
    expect(unknownBand.map((c) => c.agent.id)).toEqual(['senior-a', 'senior-b', 'junior-a']);
  });

  it('skips agents that are busy, ringing, away or in wrap-up, and prefers short handle times on a tie', () => {
    const now = { t: 1_000_000 };
    const directory = setup(now);
    const stopRinging = directory.ringStarted('senior-a');
    let ids = rankCandidates(
      directory,
      { tenant: 'acme', queue: 'sales', valueTier: 'high', routing },
      now.t,
    ).map((c) => c.agent.id);
    expect(ids).toEqual(['senior-b', 'junior-a']);
    stopRinging();
    directory.setAvailability('senior-b', 'away');
    const end = directory.callStarted('junior-a');
    ids = rankCandidates(
      directory,
      { tenant: 'acme', queue: 'sales', valueTier: 'high', routing },
      now.t,
    ).map((c) => c.agent.id);
    expect(ids).toEqual(['senior-a']);
    end(60);
    expect(directory.get('junior-a')?.state).toBe('wrap-up');
    directory.setAvailability('junior-a', 'available');
    expect(directory.get('junior-a')?.state).toBe('available');
    directory.close();
  });
});
