import { describe, expect, it } from 'vitest';
import { fallbackFlow, visitorFallback } from './fallback.js';
import type { QueueDefinition, WaitingConfig } from './queue-service.js';

/** Queue `sales` of tenant `acme` with `extra`. */
const queue = (extra: Partial<QueueDefinition> = {}): QueueDefinition => ({
  tenant: 'acme',
  ringTimeoutSeconds: 10,
  ...extra,
});
const waiting = { unavailableText: 'Closed, sorry.', voice: 'slt' } as WaitingConfig;
const apology = (reason: string) => ({
  builtin: 'parley.unavailable',
  verbs: [{ verb: 'say' }, { verb: 'hangup', reason }],
});

describe('fallbackFlow', () => {
  it('the flow named for the case first, even with verbs left', () => {
    const q = queue({ flows: { closed: 'shut', maxWait: 'late', noAnswer: 'nobody' } });
    const all = { moreVerbs: true, apology: true };
    expect(fallbackFlow('sales', q, 'closed', all)).toEqual({ flow: 'shut' });
    expect(fallbackFlow('sales', q, 'timeout', all)).toEqual({ flow: 'late' });
    expect(fallbackFlow('sales', q, 'no-agents', all)).toEqual({ flow: 'nobody' });
    expect(fallbackFlow('sales', queue(), 'closed', all)).toBeUndefined();
  });

  it('then the voicemail, the tenant default, the apology with the reason and the queue’s text', () => {
    const last = { moreVerbs: false, apology: true };
    expect(
      fallbackFlow('sales', queue({ voicemail: true, defaultFlow: 'house' }), 'full', last),
    ).toEqual({
      builtin: 'parley.voicemail',
      verbs: [{ verb: 'voicemail', queue: 'sales', cause: 'no-answer' }],
    });
    expect(fallbackFlow('sales', queue({ defaultFlow: 'house' }), 'closed', last)).toEqual({
      flow: 'house',
    });
    expect(fallbackFlow('sales', queue(), 'timeout', last)).toMatchObject(apology('queue_timeout'));
    expect(fallbackFlow('sales', undefined, 'failed', last)).toMatchObject(
      apology('no_agent_available'),
    );
    expect(fallbackFlow('sales', queue({ waiting }), 'full', last)).toMatchObject({
      verbs: [{ verb: 'say', text: 'Closed, sorry.', voice: 'slt' }, { reason: 'queue_full' }],
    });
    // Without the apology, the chain ends in nothing.
    expect(
      fallbackFlow('sales', queue(), 'no-agents', { moreVerbs: false, apology: false }),
    ).toBeUndefined();
  });
});

describe('visitorFallback', () => {
  it("closed: the queue's closed chain (closed flow, tenant default, apology), even with `waiting`", () => {
    expect(visitorFallback('sales', queue({ flows: { closed: 'shut' } }), false)).toEqual({
      flow: { flow: 'shut' },
      closed: true,
    });
    expect(visitorFallback('sales', queue({ defaultFlow: 'house', waiting }), false)).toEqual({
      flow: { flow: 'house' },
      closed: true,
    });
    expect(visitorFallback('sales', queue(), false)).toMatchObject({
      flow: apology('outside_business_hours'),
      closed: true,
    });
  });

  it('closed, a queue with voicemail and no closed flow is voicemail’s', () => {
    expect(visitorFallback('sales', queue({ voicemail: true }), false)).toBeUndefined();
    const named = queue({ voicemail: true, flows: { closed: 'shut' } });
    expect(visitorFallback('sales', named, false)).toEqual({
      flow: { flow: 'shut' },
      closed: true,
    });
  });

  it('open: waits with `waiting`, else the noAnswer flow, else the tenant default, else nothing', () => {
    expect(visitorFallback('sales', queue({ waiting }), true)).toEqual({
      flow: { builtin: 'parley.queue', verbs: [{ verb: 'enqueue', queue: 'sales' }] },
      closed: false,
    });
    const both = queue({ flows: { noAnswer: 'sorry' }, defaultFlow: 'house' });
    expect(visitorFallback('sales', both, true)).toEqual({
      flow: { flow: 'sorry' },
      closed: false,
    });
    expect(visitorFallback('sales', queue({ defaultFlow: 'house' }), true)).toEqual({
      flow: { flow: 'house' },
      closed: false,
    });
    expect(visitorFallback('sales', queue(), true)).toBeUndefined();
    // Voicemail answers a queue without `waiting`, before any tenant default.
    expect(
      visitorFallback('sales', queue({ voicemail: true, defaultFlow: 'house' }), true),
    ).toBeUndefined();
  });

  it('an unknown queue is not ours', () => {
    expect(visitorFallback('nope', undefined, false)).toBeUndefined();
  });
});
