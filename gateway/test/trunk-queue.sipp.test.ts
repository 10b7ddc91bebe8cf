/**
 * Queueing on a real call: a sipp carrier's caller dials a DID whose flow is
 * `enqueue sales` while the queue's only agent (a registered baresip phone)
 * is busy on another call. The caller waits in the queue (answered by the
 * gateway, music on hold) and, the moment the agent frees up, is offered to
 * it and bridged: no 480. Read in the flow events and the call record.
 */
import type { FlowEvent, QueueView } from '@parley/shared/protocol';
import {
  bundledScenario,
  runSipp,
  sippAvailable,
  stopAll,
  type BaresipAgent,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARRIER, carrierTrunk } from './carrier.js';
import { deskSocket } from './desk-socket.js';
import { TENANT, registeredAgent, startTestGateway, type TestGateway } from './harness.js';
import { callersWaiting } from './queue-wait.js';

const DID = '+14155550143';

afterAll(() => stopAll());

describe.skipIf(!sippAvailable())(
  'a caller waits in the queue on a real call (sipp carrier)',
  () => {
    let gw: TestGateway;
    let agent: BaresipAgent;

    beforeAll(async () => {
      gw = await startTestGateway({
        agents: [{ id: 'agent1' }],
        queueExtra: { waiting: { announceEverySeconds: 0 } },
        config: {
          flows: { 'wait-line': [{ verb: 'enqueue', queue: 'sales' }] },
          trunks: { carrier: carrierTrunk({ dids: { [DID]: 'wait-line' } }) },
        },
      });
      agent = await registeredAgent(gw, { codecs: ['PCMA', 'PCMU'] });
    });
    afterAll(async () => {
      await agent?.stop();
      await gw?.close();
    });

    it('keeps the caller waiting while the agent is busy, and bridges it when the agent frees up', async () => {
      // The agent is on another call (the directory's own busy state).
      const desk = await deskSocket(gw.gateway.httpUrl, 'agent1', 'secret');
      const endOtherCall = gw.gateway.agents.callStarted('agent1');
      const waiting = callersWaiting(gw.gateway, 'sales', 1);
      const carrier = runSipp({
        scenario: await bundledScenario('uac-carrier-flow'),
        remote: gw.udp,
        address: CARRIER,
        calls: 1,
        injection: { rows: [[DID, '4155550199']] },
        timeoutMs: 60_000,
        recvTimeoutMs: 30_000,
      });
      await waiting;
      // Still waiting: nobody was rung while the agent was busy.
      expect(agent.receivedRequests('INVITE')).toHaveLength(0);
      // The agent's desk shows who waits in its queue.
      const shown = (await desk.frame(
        (f) => f['type'] === 'queue' && (f['queue'] as QueueView).waiting === 1,
      )) as { queue: QueueView };
      expect(shown.queue).toMatchObject({ queue: 'sales', waiting: 1 });
      expect(shown.queue.callers[0]).toMatchObject({ position: 1, channel: 'phone' });
      expect(shown.queue.callers[0]?.from ?? '').toContain('4155550199');
      endOtherCall(0);
      const result = await carrier;
      expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
      await gw.callsEnded();

      const record = (await gw.gateway.callStore.listRecent(1, { tenant: TENANT }))[0]!;
      expect(record).toMatchObject({ channel: 'phone', flow: 'wait-line', agentId: 'agent1' });
      const events = await gw.gateway.telephony.events.list(record.id);
      const all = JSON.stringify(events);
      expect(
        events.some((e) => e.type === 'queue.offered' && e.agentId === 'agent1'),
        all,
      ).toBe(true);
      const enqueue = events.find(
        (e): e is Extract<FlowEvent, { type: 'verb.result' }> =>
          e.type === 'verb.result' && e.verb === 'enqueue',
      );
      expect(enqueue?.result, all).toMatchObject({ status: 'bridged', queue: 'sales' });
      expect(agent.receivedRequests('INVITE')).toHaveLength(1);
      // …and that nobody waits any more once the agent took the caller.
      await desk.frame(
        (f) =>
          f['type'] === 'queue' &&
          (f['queue'] as QueueView).waiting === 0 &&
          (f['queue'] as QueueView).offered === 0,
      );
      desk.ws.close();
    });
  },
);
