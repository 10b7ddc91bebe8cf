import type { FlowEvent } from '@parley/shared/protocol';
import { describe, expect, it } from 'vitest';
import { LIVE_KEPT_ENDED, LiveActivity } from './live-activity.js';

const base = { tenant: 'acme', at: '2026-12-05T10:00:00.000Z', flow: 'menu' };
let seq = 0;
const ev = (callId: string, e: Record<string, unknown>): FlowEvent =>
  ({ ...base, callId, seq: ++seq, ...e }) as unknown as FlowEvent;

describe('LiveActivity: flows', () => {
  it('shows the verb running, then what it came to, in order', () => {
    const live = new LiveActivity();
    live.flow(ev('c1', { type: 'flow.start', source: 'config' }));
    live.flow(ev('c1', { type: 'verb.start', index: 0, verb: 'gather', options: {} }));
    expect(live.flows).toEqual([
      { callId: 'c1', flow: 'menu', steps: [], now: 'Waiting for keys', ended: false },
    ]);
    live.flow(
      ev('c1', {
        type: 'verb.result',
        index: 0,
        verb: 'gather',
        ms: 900,
        result: { status: 'completed', digits: '42', finishedBy: 'numDigits' },
      }),
    );
    live.flow(
      ev('c1', {
        type: 'verb.start',
        index: 1,
        verb: 'dial',
        options: { target: { type: 'agent', agent: 'alice' } },
      }),
    );
    expect(live.flows[0]).toMatchObject({ steps: ['Pressed 42'], now: 'Dialling alice' });
    live.flow(ev('c1', { type: 'queue.offered', queue: 'sales', agentId: 'alice' }));
    live.flow(
      ev('c1', {
        type: 'verb.error',
        index: 1,
        verb: 'dial',
        ms: 3,
        error: { code: 'verb_failed', message: 'x' },
      }),
    );
    live.flow(ev('c1', { type: 'flow.end', reason: 'caller_hangup' }));
    expect(live.flows[0]).toEqual({
      callId: 'c1',
      flow: 'menu',
      steps: [
        'Pressed 42',
        'Offered to alice (sales)',
        'dial failed (verb_failed)',
        'The caller hung up',
      ],
      now: undefined,
      ended: true,
    });
  });

  it('drops a frame seen before (a replay after a reconnect)', () => {
    const live = new LiveActivity();
    const result = ev('c1', {
      type: 'verb.result',
      index: 0,
      verb: 'gather',
      ms: 1,
      result: { status: 'completed', digits: '1', finishedBy: 'numDigits' },
    });
    expect(live.flow(result)).toBe(true);
    expect(live.flow(result)).toBe(false);
    expect(live.flows[0]?.steps).toEqual(['Pressed 1']);
  });

  it('keeps only the newest ended flows, and every running one', () => {
    const live = new LiveActivity();
    live.flow(ev('running', { type: 'flow.start', source: 'config' }));
    for (let i = 0; i < LIVE_KEPT_ENDED + 3; i++)
      live.flow(ev(`done-${i}`, { type: 'flow.end', reason: 'completed' }));
    const ids = live.flows.map((f) => f.callId);
    expect(ids).toContain('running');
    expect(ids.filter((id) => id.startsWith('done-'))).toHaveLength(LIVE_KEPT_ENDED);
    expect(ids).not.toContain('done-0');
    live.clear();
    expect(live.flows).toEqual([]);
  });
});

describe('LiveActivity: queues', () => {
  it('lists the queues someone waits in, by name, the latest view of each', () => {
    const live = new LiveActivity();
    const view = (queue: string, waiting: number, offered = 0) => ({
      queue,
      waiting,
      offered,
      longestWaitSeconds: 3,
      callers: [],
    });
    live.queue(view('support', 2));
    live.queue(view('sales', 1));
    live.queue(view('billing', 0));
    expect(live.queues.map((q) => `${q.queue} ${q.waiting}`)).toEqual(['sales 1', 'support 2']);
    live.queue(view('sales', 0, 1));
    live.queue(view('support', 0));
    expect(live.queues.map((q) => `${q.queue} ${q.offered}`)).toEqual(['sales 1']);
  });
});
