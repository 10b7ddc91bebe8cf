import { describe, expect, it } from 'vitest';
import { CALL_STATES, canTransition } from '../api/call-state.js';
import { formatDuration, queueText, statusText } from './state-text.js';

describe('statusText', () => {
  it('says something in every state but idle, and the human text on error', () => {
    for (const state of CALL_STATES) {
      if (state !== 'idle') expect(statusText(state), state).not.toBe('');
    }
    expect(statusText('error', 'We are closed right now.')).toBe('We are closed right now.');
  });

  it('says a message is being recorded when voicemail took the call, and nothing of it after', () => {
    expect(statusText('in-call', undefined, false, undefined, true)).toMatch(/leave a message/);
    expect(statusText('in-call', undefined, false, undefined, false)).toMatch(/^Connected/);
    expect(statusText('ended', undefined, false, undefined, true)).toBe('Call ended.');
  });

  it('says so when the agent has the call on hold', () => {
    expect(statusText('in-call', undefined, true)).toMatch(/^On hold/);
    expect(statusText('in-call')).toMatch(/^Connected/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0:00'],
    [59_999, '0:59'],
    [61_000, '1:01'],
    [3_723_000, '1:02:03'],
  ])('%d ms → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('call states', () => {
  it('start only from idle, ended or error, and end only in ended or error', () => {
    const from = CALL_STATES.filter((s) => canTransition(s, 'permission'));
    expect(from).toEqual(['idle', 'ended', 'error']);
    expect(canTransition('in-call', 'ringing')).toBe(false);
    expect(canTransition('ended', 'in-call')).toBe(false);
  });
});

describe('queueText', () => {
  const at = '2030-01-01T00:00:00.000Z';
  it('says the place and the minutes, rounded up', () => {
    expect(
      queueText({
        type: 'queue',
        state: 'waiting',
        queue: 'sales',
        position: 3,
        estimatedWaitSeconds: 200,
        at,
      }),
    ).toBe('You are number 3 in the queue, about 4 minutes.');
    expect(
      queueText({
        type: 'queue',
        state: 'waiting',
        queue: 'sales',
        position: 1,
        estimatedWaitSeconds: 20,
        at,
      }),
    ).toBe('You are number 1 in the queue, about 1 minute.');
  });

  it('leaves the minutes out without an estimate, and says when an agent is being rung', () => {
    expect(
      queueText({
        type: 'queue',
        state: 'waiting',
        queue: 'sales',
        position: 2,
        estimatedWaitSeconds: null,
        at,
      }),
    ).toBe('You are number 2 in the queue.');
    expect(queueText({ type: 'queue', state: 'connecting', queue: 'sales', at })).toBe(
      'An agent is taking your call…',
    );
  });

  it('is what the status line says while the visitor waits in a call the gateway answered', () => {
    const queue = {
      type: 'queue',
      state: 'waiting',
      queue: 'sales',
      position: 5,
      estimatedWaitSeconds: 600,
      at,
    } as const;
    expect(statusText('in-call', undefined, false, queue)).toBe(
      'You are number 5 in the queue, about 10 minutes.',
    );
    expect(statusText('in-call')).toMatch(/^Connected/);
  });
});
