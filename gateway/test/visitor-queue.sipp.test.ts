/**
 * A visitor's call when every agent is busy (issue 10: "the visitor gets an
 * instant 480 and the lead is lost"): the queue has `waiting`, so the caller
 * (sipp, a SIP visitor with a call token) is put in the queue instead, and the
 * baresip agent takes the call as soon as it frees up.
 */
import type { FlowEvent } from '@parley/shared/protocol';
import {
  bundledScenario,
  runSipp,
  sippAvailable,
  stopAll,
  type BaresipAgent,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT, registeredAgent, startTestGateway, type TestGateway } from './harness.js';
import { callersWaiting } from './queue-wait.js';

afterAll(() => stopAll());

describe.skipIf(!sippAvailable())('a visitor waits in the queue while agents are busy', () => {
  let gw: TestGateway;
  let agent: BaresipAgent;

  beforeAll(async () => {
    gw = await startTestGateway({
      agents: [{ id: 'agent1' }],
      queueExtra: { waiting: { announceEverySeconds: 0 } },
    });
    agent = await registeredAgent(gw);
  });
  afterAll(async () => {
    await agent?.stop();
    await gw?.close();
  });

  it('is enqueued instead of refused, and bridged to the agent when it frees up', async () => {
    // The agent is on another call (the directory's own busy state).
    const endOtherCall = gw.gateway.agents.callStarted('agent1');
    const waiting = callersWaiting(gw.gateway, 'sales', 1);
    const token = await gw.token({ subject: 'web-sess-Q', privateClaims: { name: 'Ada' } });
    const visitor = runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: gw.udp,
      service: 'sales',
      calls: 1,
      callDurationMs: 6000,
      injection: { rows: [[token]] },
      timeoutMs: 60_000,
    });
    await waiting;
    // Still waiting: nobody was rung while the agent was busy.
    expect(agent.receivedRequests('INVITE')).toHaveLength(0);
    endOtherCall(0);
    const result = await visitor;
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    await gw.callsEnded();

    const record = (await gw.gateway.callStore.listRecent(1, { tenant: TENANT }))[0]!;
    expect(record).toMatchObject({ sessionId: 'web-sess-Q', agentId: 'agent1' });
    const events = await gw.gateway.telephony.events.list(record.id);
    const enqueue = events.find(
      (e): e is Extract<FlowEvent, { type: 'verb.result' }> =>
        e.type === 'verb.result' && e.verb === 'enqueue',
    );
    expect(enqueue?.result, JSON.stringify(events)).toMatchObject({
      status: 'bridged',
      queue: 'sales',
    });
    expect(agent.receivedRequests('INVITE')).toHaveLength(1);
  });
});
