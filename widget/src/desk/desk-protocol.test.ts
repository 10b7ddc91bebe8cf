import { describe, expect, it } from 'vitest';
import { parseDeskEvent } from './desk-protocol.js';
import { agent, context } from './testing/fakes.js';

const frame = (value: unknown): string => JSON.stringify(value);
const chat = { type: 'chat', id: 'm1', at: '2025-01-01T10:00:00Z', text: 'hello' };

describe('parseDeskEvent', () => {
  it('reads every frame the gateway sends', () => {
    expect(parseDeskEvent(frame({ type: 'presence', agent: agent() }))).toEqual({
      type: 'presence',
      agent: agent(),
    });
    expect(parseDeskEvent(frame({ type: 'ring', call: context('c1') }))).toEqual({
      type: 'ring',
      call: context('c1'),
    });
    expect(parseDeskEvent(frame({ type: 'ring-stopped', callId: 'c1' }))).toEqual({
      type: 'ring-stopped',
      callId: 'c1',
    });
    expect(parseDeskEvent(frame({ type: 'answered', call: context('c1') }))).toMatchObject({
      type: 'answered',
      call: { callId: 'c1' },
    });
    const stored = { seq: 3, from: 'visitor', receivedAt: '2025-01-01T10:00:01Z', message: chat };
    expect(parseDeskEvent(frame({ type: 'message', callId: 'c1', stored }))).toEqual({
      type: 'message',
      callId: 'c1',
      stored,
    });
    expect(
      parseDeskEvent(
        frame({ type: 'ended', callId: 'c1', reason: 'normal_clearing', outcome: 'answered' }),
      ),
    ).toEqual({ type: 'ended', callId: 'c1', reason: 'normal_clearing', outcome: 'answered' });
    expect(
      parseDeskEvent(frame({ type: 'notice', code: 'message_rejected', reason: 'rate limited' })),
    ).toEqual({ type: 'notice', code: 'message_rejected', reason: 'rate limited' });
    const flow = {
      type: 'verb.result',
      callId: 'c1',
      tenant: 'acme',
      seq: 4,
      at: '2026-12-05T10:00:00.000Z',
      flow: 'menu',
      index: 1,
      verb: 'gather',
      ms: 800,
      result: { status: 'completed', digits: '7', finishedBy: 'numDigits' },
    };
    expect(parseDeskEvent(frame({ type: 'flow', event: flow }))).toEqual({
      type: 'flow',
      event: flow,
    });
    expect(parseDeskEvent(frame({ type: 'flow', event: { type: 'verb.result' } }))).toBeUndefined();
    const queue = {
      queue: 'sales',
      waiting: 1,
      offered: 0,
      longestWaitSeconds: 12,
      callers: [{ callId: 'c9', position: 1, channel: 'phone', from: '+14155550199' }],
    };
    expect(parseDeskEvent(frame({ type: 'queue', queue }))).toEqual({ type: 'queue', queue });
    expect(parseDeskEvent(frame({ type: 'queue', queue: { queue: 'sales' } }))).toBeUndefined();
    const callback = { id: 'cb1', phase: 'connecting', key: '1', at: '2026-12-05T10:00:00.000Z' };
    expect(parseDeskEvent(frame({ type: 'callback', callback }))).toMatchObject({
      type: 'callback',
      callback: { ...callback, agentId: null, page: null, privateClaims: {}, phone: '' },
    });
    expect(
      parseDeskEvent(frame({ type: 'callback', callback: { ...callback, phase: 'dancing' } })),
    ).toBeUndefined();
  });

  it('fills what an older gateway leaves out of a call context', () => {
    const parsed = parseDeskEvent(frame({ type: 'ring', call: { callId: 'c9' } }));
    expect(parsed).toMatchObject({
      type: 'ring',
      call: {
        callId: 'c9',
        privateClaims: {},
        routing: null,
        previousCalls: [],
        sessionNumber: '',
      },
    });
  });

  it('ignores what it does not understand', () => {
    for (const bad of [
      'not json',
      42,
      frame([1, 2]),
      frame({ type: 'surprise' }),
      frame({ type: 'presence', agent: { id: 'a', state: 'dancing' } }),
      frame({ type: 'ring', call: {} }),
      frame({ type: 'ring-stopped' }),
      // the message hub's own notice, relayed as a `message` when a call ends
      frame({
        type: 'message',
        callId: 'c1',
        stored: { type: 'notice', code: 'call_ended', reason: 'x' },
      }),
      frame({
        type: 'message',
        callId: 'c1',
        stored: { seq: 1, from: 'visitor', message: { type: 'chat' } },
      }),
      frame({ type: 'message', callId: 'c1', stored: { seq: 1, from: 'robot', message: chat } }),
      frame({ type: 'notice', code: 'call_ended', reason: 'x' }),
    ]) {
      expect(parseDeskEvent(bad), String(bad)).toBeUndefined();
    }
  });
});
