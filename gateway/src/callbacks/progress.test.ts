import { describe, expect, it } from 'vitest';
import type { CallbackEvent, CallbackPhase } from '@parley/shared/protocol';
import { CallbackProgress } from './progress.js';

const event = (id: string, phase: CallbackPhase): CallbackEvent => ({
  type: 'callback',
  id,
  phase,
  attempt: 1,
  dueAt: null,
  outcome: phase === 'ended' ? 'completed' : null,
  code: null,
  at: new Date(0).toISOString(),
});

describe('CallbackProgress', () => {
  it('keeps what a live callback went through, for a watcher who connects late', () => {
    const progress = new CallbackProgress();
    progress.publish(event('a', 'calling'));
    progress.publish(event('a', 'ringing'));
    progress.publish(event('b', 'calling'));
    expect(progress.history('a').map((e) => e.phase)).toEqual(['calling', 'ringing']);
    const seen: string[] = [];
    const stop = progress.watch('a', (e) => seen.push(e.phase));
    progress.publish(event('a', 'prompting'));
    expect(seen).toEqual(['prompting']);
    expect(progress.history('a').map((e) => e.phase)).toEqual(['calling', 'ringing', 'prompting']);
    stop();
  });

  it('forgets a callback once it ended', () => {
    const progress = new CallbackProgress();
    progress.publish(event('a', 'calling'));
    progress.publish(event('a', 'ended'));
    expect(progress.history('a')).toEqual([]);
  });
});
