/**
 * The redirect loop guard on real calls (docs/flows.md, "Loops"): the
 * tenant's `defaultFlow` enqueues into a queue whose fallback for the case
 * is that same default flow (the queue names no flow of its own and has no
 * voicemail), so every way out of the queue leads back into it. The run must
 * end the call with `flow_redirect_loop` after the allowed redirects instead
 * of going round for ever.
 *
 * - closed: a sipp carrier's caller dials a DID whose flow is the default
 *   flow; the queue has no opening hours, so each `enqueue` ends `closed`
 *   at once;
 * - max wait: a SIP visitor (sipp with a call token) calls the queue while
 *   its only agent is busy; it waits, each wait ends `timeout` after
 *   `maxWaitSeconds`, and the default flow enqueues it again.
 *
 * Each time the caller (answered by the `enqueue`) gets a BYE with
 * `Reason: SIP;cause=500;text="flow_redirect_loop"`, the call record keeps the
 * reason and the flow events say how many times the caller went round.
 */
import type { FlowEvent } from '@parley/shared/protocol';
import { bundledScenario, runSipp, sippAvailable, stopAll } from '@parley/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../src/flows/run.js';
import { CARRIER, carrierTrunk } from './carrier.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';
import { transactionsIn } from './sipp-log.js';

const DID = '+14155550171';
/** A schedule with no opening hours: closed whenever the test runs. */
const NEVER_OPEN = { timeZone: 'UTC', weekly: {} };
/** The first enqueue, then one per redirect the guard lets through. */
const ROUNDS = DEFAULT_LIMITS.redirectsInARow + 1;

afterAll(() => stopAll());

/** A gateway whose tenant default flow `front` enqueues `support` (defined by `support`). */
function loopingGateway(support: Record<string, unknown>): Promise<TestGateway> {
  return startTestGateway({
    // A fixed contact: signed in without registering (the max-wait case makes it busy).
    agents: [{ id: 'agent1', queues: ['support'], contact: 'sip:agent1@127.0.0.1:9' }],
    tenantExtra: { defaultFlow: 'front' },
    // The callers send no audio while they wait: the inactivity timer must not end the call first.
    mediaExtra: { inactivityTimeoutSeconds: 120 },
    config: {
      queues: { support: { tenant: TENANT, ringTimeoutSeconds: 5, ...support } },
      flows: { front: [{ verb: 'enqueue', queue: 'support' }] },
      trunks: { carrier: carrierTrunk({ dids: { [DID]: 'front' } }) },
    },
  });
}

/** The one call the gateway took: its record and its flow events. */
async function theCall(gw: TestGateway) {
  await gw.callsEnded();
  const [record, ...more] = await gw.gateway.callStore.listRecent(5, { tenant: TENANT });
  expect(more).toEqual([]);
  const events = await gw.gateway.telephony.events.list(record!.id);
  const enqueues = events.filter(
    (e): e is Extract<FlowEvent, { type: 'verb.result' }> =>
      e.type === 'verb.result' && e.verb === 'enqueue',
  );
  const ends = events.filter((e) => e.type === 'flow.end');
  return { record: record!, events, enqueues, ends };
}

/** Every round's `enqueue` ended `status`, and the flow ended once, as a redirect loop. */
function expectLoopRounds(call: Awaited<ReturnType<typeof theCall>>, status: string): string {
  const all = JSON.stringify(call.events);
  expect(
    call.enqueues.map((e) => e.result.status),
    all,
  ).toEqual(Array(ROUNDS).fill(status));
  expect(
    call.ends.map((e) => e.type === 'flow.end' && e.reason),
    all,
  ).toEqual(['redirect_loop']);
  return all;
}

/** The Reason of the BYE the caller (sipp) got. */
function byeReason(messages: string): string | undefined {
  const byes = transactionsIn(messages, 'BYE');
  expect(byes).toHaveLength(1);
  return byes[0]?.header('reason');
}

const LOOP_REASON = 'SIP;cause=500;text="flow_redirect_loop"';

describe.skipIf(!sippAvailable())('a default flow that enqueues back into itself', () => {
  it('closed queue: a DID caller is answered, then hung up with flow_redirect_loop', async () => {
    const gw = await loopingGateway({ businessHours: NEVER_OPEN });
    try {
      const started = Date.now();
      const caller = await runSipp({
        scenario: await bundledScenario('uac-carrier-await-bye'),
        remote: gw.udp,
        address: CARRIER,
        calls: 1,
        injection: { rows: [[DID, '4155550199']] },
        traceMessages: true,
        timeoutMs: 60_000,
        recvTimeoutMs: 30_000,
      });
      expect(caller.stats.successful, `${caller.output}\n${caller.errors}`).toBe(1);
      expect(byeReason(caller.messages)).toBe(LOOP_REASON);
      expect(Date.now() - started).toBeLessThan(30_000);

      const call = await theCall(gw);
      const { record, events } = call;
      expect(record).toMatchObject({
        channel: 'phone',
        called: DID,
        flow: 'front',
        outcome: 'answered',
        endedBy: 'gateway',
        reason: 'flow_redirect_loop',
      });
      expectLoopRounds(call, 'closed');
      // Every round ran the tenant's default flow again.
      expect(events.filter((e) => e.type === 'flow.start').map((e) => e.flow)).toEqual(
        Array(ROUNDS).fill('front'),
      );
    } finally {
      await gw.close();
    }
  });

  it('max wait: a visitor waiting for a busy agent is hung up with flow_redirect_loop', async () => {
    const gw = await loopingGateway({ waiting: { maxWaitSeconds: 1, announceEverySeconds: 0 } });
    // The queue's only agent is on another call for the whole test.
    const endOtherCall = gw.gateway.agents.callStarted('agent1');
    try {
      const started = Date.now();
      const visitor = await runSipp({
        scenario: await bundledScenario('uac-bearer-await-bye'),
        remote: gw.udp,
        service: 'support',
        calls: 1,
        injection: { rows: [[await gw.token({ scope: 'queue:support' })]] },
        traceMessages: true,
        timeoutMs: 90_000,
        recvTimeoutMs: 60_000,
      });
      expect(visitor.stats.successful, `${visitor.output}\n${visitor.errors}`).toBe(1);
      expect(byeReason(visitor.messages)).toBe(LOOP_REASON);
      // Each round waited its maxWaitSeconds (1 s): bounded, not for ever.
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(ROUNDS * 1000);
      expect(took).toBeLessThan(ROUNDS * 1000 + 30_000);

      const call = await theCall(gw);
      const { record, events } = call;
      expect(record).toMatchObject({
        channel: 'sip',
        outcome: 'answered',
        endedBy: 'gateway',
        reason: 'flow_redirect_loop',
      });
      const all = expectLoopRounds(call, 'timeout');
      // The queue's own wait first, then the tenant's default flow each time.
      const flows = events.filter((e) => e.type === 'flow.start').map((e) => e.flow);
      expect(flows.slice(1), all).toEqual(Array(ROUNDS - 1).fill('front'));
    } finally {
      endOtherCall(0);
      await gw.close();
    }
  });
});
