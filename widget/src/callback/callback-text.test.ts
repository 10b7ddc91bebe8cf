import { describe, expect, it } from 'vitest';
import { humanMessage } from '@parley/shared/errors';
import { callbackStatusText, isOver } from './callback-text.js';

const at = (iso: string) => `T(${iso})`;

describe('callbackStatusText', () => {
  it('says what happens next while waiting', () => {
    expect(callbackStatusText({ phase: 'scheduled', when: 'now' }, at)).toBe(
      'We will call you in a moment.',
    );
    expect(callbackStatusText({ phase: 'scheduled', when: 'agent-free' }, at)).toBe(
      'We will call you as soon as someone is free.',
    );
    expect(
      callbackStatusText(
        { phase: 'scheduled', when: '2026-12-07T10:00:00.000Z', dueAt: '2026-12-07T10:00:00.000Z' },
        at,
      ),
    ).toBe('We will call you at T(2026-12-07T10:00:00.000Z).');
    // After an attempt that did not reach the customer: the retry's time.
    expect(
      callbackStatusText({ phase: 'scheduled', when: 'now', attempt: 1, dueAt: 'x' }, at),
    ).toBe('We could not reach you. We will try again at T(x).');
  });

  it('follows the call and names the failure by its registry message', () => {
    expect(callbackStatusText({ phase: 'prompting' })).toMatch(/press 1/);
    expect(callbackStatusText({ phase: 'connected' })).toMatch(/^Connected/);
    expect(callbackStatusText({ phase: 'ended', outcome: 'completed' })).toMatch(/over/);
    expect(
      callbackStatusText({ phase: 'ended', outcome: 'no_answer', code: 'number_no_answer' }),
    ).toBe(humanMessage('number_no_answer'));
    expect(callbackStatusText({ phase: 'refused', code: 'number_blocked' })).toBe(
      humanMessage('number_blocked'),
    );
  });

  it('knows when the form may be used again', () => {
    expect(isOver('ended')).toBe(true);
    expect(isOver('refused')).toBe(true);
    expect(isOver('connecting')).toBe(false);
  });
});
