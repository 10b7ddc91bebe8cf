import type { FlowEvent } from '@parley/shared/protocol';
import { describe, expect, it } from 'vitest';
import { flowStepText, verbStartText } from './flow-text.js';

const base = { callId: 'c1', tenant: 'acme', seq: 1, at: '2026-12-05T10:00:00Z', flow: 'menu' };
const result = (verb: string, result: Record<string, unknown>): FlowEvent =>
  ({ ...base, type: 'verb.result', index: 0, verb, result, ms: 5 }) as unknown as FlowEvent;

describe('flowStepText', () => {
  it('says what the caller did in the phone menu', () => {
    expect(flowStepText(result('say', { status: 'interrupted', key: '1', plays: 1 }))).toBe(
      'Pressed 1 during a prompt',
    );
    expect(flowStepText(result('say', { status: 'completed', plays: 1 }))).toBe('Heard a prompt');
    expect(
      flowStepText(
        result('gather', { status: 'completed', digits: '42', finishedBy: 'numDigits' }),
      ),
    ).toBe('Pressed 42');
    expect(
      flowStepText(result('gather', { status: 'timeout', digits: '', finishedBy: 'timeout' })),
    ).toBe('Pressed no key');
    expect(
      flowStepText(
        result('record', {
          status: 'completed',
          durationSeconds: 4.4,
          path: '/x',
          bytes: 1,
          endedBy: 'key',
        }),
      ),
    ).toBe('Left a recording (4 s)');
    expect(flowStepText(result('dial', { status: 'answered', answeredBy: 'agent1' }))).toBe(
      'Dialled: answered (agent1)',
    );
    expect(flowStepText(result('gather', { status: 'hangup', digits: '' }))).toBe(
      'Hung up during gather',
    );
  });

  it('says what failed and what the caller said, and nothing for verb starts', () => {
    const error = {
      ...base,
      type: 'verb.error',
      index: 1,
      verb: 'play',
      error: { code: 'prompt_unreadable', message: 'x' },
      ms: 1,
    } as unknown as FlowEvent;
    expect(flowStepText(error)).toBe('play failed (prompt_unreadable)');
    const said = {
      ...base,
      type: 'transcript.final',
      utterance: 1,
      text: 'my order',
    } as unknown as FlowEvent;
    expect(flowStepText(said)).toBe('Said: “my order”');
    const start = {
      ...base,
      type: 'verb.start',
      index: 0,
      verb: 'say',
      options: {},
    } as unknown as FlowEvent;
    expect(flowStepText(start)).toBeUndefined();
  });
});

describe('verbStartText', () => {
  const start = (verb: string, options: Record<string, unknown> = {}): FlowEvent =>
    ({ ...base, type: 'verb.start', index: 0, verb, options }) as unknown as FlowEvent;
  it('says what the verb running now does', () => {
    expect(verbStartText(start('say'))).toBe('Playing a prompt');
    expect(verbStartText(start('gather'))).toBe('Waiting for keys');
    expect(verbStartText(start('record'))).toBe('Recording the caller');
    expect(verbStartText(start('dial', { target: { type: 'phone', number: '+1415' } }))).toBe(
      'Dialling +1415',
    );
    expect(verbStartText(start('enqueue', { queue: 'sales' }))).toBe('Joining queue sales');
    expect(verbStartText(result('gather', { status: 'completed' }))).toBeUndefined();
  });
});
