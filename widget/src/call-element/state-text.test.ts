import { describe, expect, it } from 'vitest';
import { CALL_STATES, canTransition } from '../api/call-state.js';
import { formatDuration, statusText } from './state-text.js';

describe('statusText', () => {
  it('says something in every state but idle, and the human text on error', () => {
    for (const state of CALL_STATES) {
      if (state !== 'idle') expect(statusText(state), state).not.toBe('');
    }
    expect(statusText('error', 'We are closed right now.')).toBe('We are closed right now.');
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
