import { describe, expect, it } from 'vitest';
import type { DeskEvent } from '@parley/shared/protocol';
import type { DialAttempt } from '../flows/ports.js';
import { fakeContext } from '../flows/testing/fake-call.js';
import { createLogger } from '../observability/index.js';
import { QueueDeskFeed } from './desk-feed.js';
import { QueueService } from './queue-service.js';
import { MemoryQueueState } from './queue-state.js';
import { FakeAgents } from './testing/fake-agents.js';

describe('QueueDeskFeed', () => {
  it('tells the desks who waits, best first, and a burst of joins gives two frames, not one each', async () => {
    const agents = new FakeAgents();
    agents.add('alice', ['sales']);
    let clock = Date.parse('2030-01-01T10:00:00Z');
    const service = new QueueService({
      queues: { sales: { tenant: 'acme', ringTimeoutSeconds: 20 } },
      state: new MemoryQueueState(),
      agents,
      logger: createLogger('silent'),
      now: () => clock,
    });
    const frames: DeskEvent[] = [];
    let second!: () => void;
    const twoFrames = new Promise<void>((r) => (second = r));
    const feed = new QueueDeskFeed(
      service,
      (queue, event) => {
        expect(queue).toBe('sales');
        frames.push(event);
        if (frames.length === 2) second();
      },
      () => clock,
    );
    const join = (id: string, value: number, from: string) => {
      clock += 1000;
      return service.join({
        queue: 'sales',
        context: fakeContext({ callId: id, from, value: { value, tier: 'standard' } }),
        maxWaitSeconds: 600,
        offer: () => new Promise<DialAttempt>(() => undefined),
      });
    };
    await Promise.all([
      join('c1', 1, '+14155550001'),
      join('c2', 9, '+14155550002'),
      join('c3', 5, '+14155550003'),
    ]);
    await twoFrames;
    expect(frames[0]).toMatchObject({ type: 'queue', queue: { queue: 'sales' } });
    const last = frames[1];
    expect(last?.type === 'queue' && last.queue).toMatchObject({
      queue: 'sales',
      waiting: 3,
      offered: 0,
      longestWaitSeconds: 2,
      callers: [
        {
          callId: 'c2',
          position: 1,
          value: 9,
          tier: 'standard',
          channel: 'phone',
          from: '+14155550002',
        },
        { callId: 'c3', position: 2, value: 5 },
        { callId: 'c1', position: 3, value: 1, since: '2030-01-01T10:00:01.000Z' },
      ],
    });
    expect(feed.view('sales')?.waiting).toBe(3);
    feed.close();
    service.close();
  });
});
