import { describe, expect, it } from 'vitest';
import type { DialAttempt } from '../flows/ports.js';
import { fakeBridge, fakeContext, FakeCall } from '../flows/testing/fake-call.js';
import { harness } from '../flows/testing/harness.js';
import { createLogger, Metrics } from '../observability/index.js';
import { flowMetricsSink, observeQueues } from './metrics.js';
import { QueueService } from './queue-service.js';
import { MemoryQueueState } from './queue-state.js';
import { FakeAgents } from './testing/fake-agents.js';

describe('queue and flow metrics', () => {
  it('counts waiting callers, how they left, and the verbs run', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const agents = new FakeAgents();
    agents.add('alice', ['sales']);
    const service = new QueueService({
      queues: { sales: { tenant: 'acme', ringTimeoutSeconds: 20 } },
      state: new MemoryQueueState(),
      agents,
      logger: createLogger('silent'),
    });
    observeQueues(service, metrics);
    const joined = await service.join({
      queue: 'sales',
      context: fakeContext({ callId: 'c1' }),
      maxWaitSeconds: 600,
      offer: (agentId) =>
        Promise.resolve<DialAttempt>({ status: 'answered', bridge: fakeBridge(agentId) }),
    });
    expect((await metrics.registry.getSingleMetricAsString('parley_queue_waiting')).trim()).toMatch(
      /parley_queue_waiting\{queue="sales"\} 1$/m,
    );
    agents.set('alice', 'available');
    if (joined.ok) await joined.ticket.done;
    expect(await metrics.registry.getSingleMetricAsString('parley_queue_left_total')).toMatch(
      /parley_queue_left_total\{queue="sales",status="bridged"\} 1/,
    );

    const h = harness({
      sinks: [flowMetricsSink(metrics)],
      flows: {
        main: [
          { verb: 'say', text: 'hi' },
          { verb: 'play', file: 'nope.wav' },
        ],
      },
    });
    await h.runner.run(new FakeCall(), 'main');
    const verbs = await metrics.registry.getSingleMetricAsString('parley_flow_verbs_total');
    expect(verbs).toMatch(/verb="say",outcome="completed"\} 1/);
    expect(verbs).toMatch(/verb="play",outcome="error"\} 1/);
    service.close();
  });
});
