import { describe, expect, it } from 'vitest';
import { parseQueueStatus, type QueueStatus } from './queue.js';

const at = '2030-01-01T00:00:00.000Z';

describe('parseQueueStatus', () => {
  it.each<QueueStatus>([
    { type: 'queue', state: 'waiting', queue: 'sales', position: 1, estimatedWaitSeconds: 60, at },
    {
      type: 'queue',
      state: 'waiting',
      queue: 'sales',
      position: 7,
      estimatedWaitSeconds: null,
      at,
    },
    { type: 'queue', state: 'connecting', queue: 'sales', at },
    { type: 'queue', state: 'left', queue: 'sales', reason: 'timeout', at },
  ])('reads a $state status', (status) => {
    expect(parseQueueStatus(JSON.stringify(status))).toEqual(status);
  });

  it.each([
    ['not JSON', 'queue'],
    ['another type', JSON.stringify({ type: 'chat', id: 'x', at, text: 'hi' })],
    ['an unknown state', JSON.stringify({ type: 'queue', state: 'asleep', queue: 'q', at })],
    [
      'waiting without a place',
      JSON.stringify({ type: 'queue', state: 'waiting', queue: 'q', at }),
    ],
    ['place 0', JSON.stringify({ type: 'queue', state: 'waiting', queue: 'q', position: 0, at })],
    [
      'a negative wait',
      JSON.stringify({
        type: 'queue',
        state: 'waiting',
        queue: 'q',
        position: 1,
        estimatedWaitSeconds: -5,
        at,
      }),
    ],
    [
      'an unknown reason',
      JSON.stringify({ type: 'queue', state: 'left', queue: 'q', reason: 'bored', at }),
    ],
    ['a binary frame', new Uint8Array([1, 2])],
    [
      'something huge',
      JSON.stringify({ type: 'queue', state: 'connecting', queue: 'q'.repeat(2000), at }),
    ],
  ])('ignores %s', (_name, frame) => {
    expect(parseQueueStatus(frame)).toBeUndefined();
  });
});
