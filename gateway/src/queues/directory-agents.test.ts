import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { DialAttempt } from '../flows/ports.js';
import { fakeBridge, fakeContext } from '../flows/testing/fake-call.js';
import { createLogger } from '../observability/index.js';
import { AgentDirectory } from '../agents/index.js';
import type { QueueRouting } from '../routing/index.js';

/** Sequential ringing, no bands: what a queue without routing settings does. */
const DEFAULT_QUEUE_ROUTING: QueueRouting = { strategy: 'sequential', ringAtOnce: 1, bands: {} };
import { DirectoryQueueAgents } from './directory-agents.js';
import { QueueService } from './queue-service.js';
import { MemoryQueueState } from './queue-state.js';

const agent = (id: string, tier: string) => ({
  id,
  tenant: 'acme',
  password: 'secret',
  queues: ['sales'],
  maxCalls: 1,
  tier,
  contact: `sip:${id}@pbx.acme.test`,
});

describe('DirectoryQueueAgents', () => {
  it('offers the caller to the agent whose call just ended, ranked by the queue bands, and counts staffed agents', async () => {
    const directory = new AgentDirectory([agent('sue', 'senior'), agent('jim', 'junior')]);
    const routing = {
      ...DEFAULT_QUEUE_ROUTING,
      bands: { high: ['senior'], standard: ['junior', 'senior'] },
    };
    const agents = new DirectoryQueueAgents(directory, (q) =>
      q === 'sales' ? { tenant: 'acme', routing } : undefined,
    );
    expect(agents.candidates('sales', 'high')).toEqual(['sue']);
    expect([...agents.candidates('sales', undefined)].sort()).toEqual(['jim', 'sue']);
    const endSue = directory.callStarted('sue');
    const endJim = directory.callStarted('jim');
    expect(agents.candidates('sales', undefined)).toEqual([]);
    expect(agents.staffing('sales')).toEqual({ agents: 2, meanHandleSeconds: undefined });

    const service = new QueueService({
      queues: { sales: { tenant: 'acme', ringTimeoutSeconds: 20 } },
      state: new MemoryQueueState(),
      agents,
      logger: createLogger('silent'),
    });
    const rang: string[] = [];
    const offer = (agentId: string): Promise<DialAttempt> => {
      rang.push(agentId);
      directory.callStarted(agentId); // the agent took it: busy
      return Promise.resolve({ status: 'answered', bridge: fakeBridge(agentId) });
    };
    const joined = await service.join({
      queue: 'sales',
      context: fakeContext({ callId: 'vip', value: { value: 900, tier: 'high' } }),
      maxWaitSeconds: 600,
      offer,
    });
    expect(joined.ok).toBe(true);
    // Jim frees first, but a high-value caller is served by seniors only.
    const passed = once(service, 'waiting');
    endJim();
    await passed;
    expect(rang).toEqual([]);
    const offered = once(service, 'offered');
    endSue();
    await offered;
    expect(rang).toEqual(['sue']);
    service.close();
  });
});
