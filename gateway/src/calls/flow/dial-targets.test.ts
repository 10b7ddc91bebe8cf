import { describe, expect, it } from 'vitest';
import type { AgentDirectory } from '../../agents/index.js';
import { createLogger } from '../../observability/index.js';
import type { SipStack } from '../../sip/index.js';
import type { Call } from '../call.js';
import { TargetDialer } from './dial-targets.js';

const NOW = 1_000_000;

/**
 * The decisions `dial` makes before any leg is made: who may be rung at all.
 * (Ringing a leg is `leg-bridge.test.ts`; a real agent and phone answering,
 * gateway/test/flow-dial.baresip.test.ts.)
 */
function dialer(
  agents: Record<string, { tenant: string; state: string; contacts: { expiresAt: number }[] }>,
  candidates: string[] = [],
) {
  const rung: string[] = [];
  const directory = {
    get: (id: string) => (agents[id] ? { ...agents[id], queues: ['sales'] } : undefined),
    ringStarted: (id: string) => {
      rung.push(id);
      return () => undefined;
    },
  } as unknown as AgentDirectory;
  const d = new TargetDialer({
    stack: {} as SipStack,
    agents: directory,
    trunks: undefined,
    domain: 'parley.test',
    logger: createLogger('silent'),
    tenantName: () => 'Acme',
    wrapUpSeconds: () => 0,
    queueCandidates: () => candidates,
    now: () => NOW,
  });
  return { d, rung };
}

const call = { tenant: 'acme', ending: false } as unknown as Call;
const options = {
  timeoutSeconds: 20,
  signal: new AbortController().signal,
  callerId: '+15550100',
  tier: undefined,
};

describe('TargetDialer', () => {
  it('an agent of another tenant, or none, is unknown; one without a live registration unreachable', async () => {
    const { d, rung } = dialer({
      other: { tenant: 'globex', state: 'available', contacts: [{ expiresAt: NOW + 60_000 }] },
      lapsed: { tenant: 'acme', state: 'available', contacts: [{ expiresAt: NOW - 1 }] },
    });
    for (const [agent, reason] of [
      ['nobody', 'unknown_agent'],
      ['other', 'unknown_agent'],
      ['lapsed', 'agent_unreachable'],
    ] as const)
      expect(await d.dial(call, { type: 'agent', agent }, options)).toEqual({
        status: 'failed',
        reason,
      });
    expect(rung).toEqual([]);
  });

  it('a busy or signed-out agent is busy, and is not rung', async () => {
    const contacts = [{ expiresAt: NOW + 60_000 }];
    const { d, rung } = dialer({
      bob: { tenant: 'acme', state: 'busy', contacts },
      sue: { tenant: 'acme', state: 'offline', contacts },
    });
    for (const agent of ['bob', 'sue'])
      expect(await d.dial(call, { type: 'agent', agent }, options)).toEqual({
        status: 'busy',
        reason: 'agent_busy',
      });
    expect(rung).toEqual([]);
  });

  it('a queue: no candidate fails no_agent_available, its last candidate busy is busy, candidates that all failed no-answer', async () => {
    expect(await dialer({}).d.dial(call, { type: 'queue', queue: 'sales' }, options)).toEqual({
      status: 'failed',
      reason: 'no_agent_available',
    });
    const contacts = [{ expiresAt: NOW + 60_000 }];
    const { d } = dialer({ bob: { tenant: 'acme', state: 'busy', contacts } }, ['bob']);
    // bob was the only candidate and turned out busy: the queue's dial says so.
    expect(await d.dial(call, { type: 'queue', queue: 'sales' }, options)).toEqual({
      status: 'busy',
      reason: 'agent_busy',
    });
    const { d: gone } = dialer({}, ['ghost']);
    expect(await gone.dial(call, { type: 'queue', queue: 'sales' }, options)).toEqual({
      status: 'no-answer',
      reason: 'unknown_agent',
    });
  });

  it('a phone number without trunks is not allowed', async () => {
    const { d } = dialer({});
    expect(await d.dial(call, { type: 'phone', number: '+14155550123' }, options)).toEqual({
      status: 'failed',
      reason: 'trunk_not_allowed',
    });
  });
});
