/**
 * Queue membership across gateways (issue 16, "queue membership in Redis"):
 * two gateways on one redis-server, the only agent (baresip, registered with
 * A) busy in a call on B.
 * - A caller on A (sipp visitor) waits: the agent is taken on B, so A neither
 *   rings it nor offers it; it is first in the cluster's queue.
 * - A second caller, on B, is second: B's queue holds both gateways' callers,
 *   and its position is the cluster's (2, then 1 once the first is offered).
 * - When the agent's call on B ends, the caller waiting on A is offered to it
 *   by A and connected (the agent's second INVITE comes from A; A's record is
 *   answered by agent1, its enqueue bridged); the second caller is not offered
 *   the agent while it talks on A.
 */
import type { FlowEvent } from '@parley/shared/protocol';
import { bundledScenario, runSipp, sippAvailable, until } from '@parley/testkit';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import type { WaitingEntry } from '../../src/queues/index.js';
import { twoGatewaysOnRedis, type TwoGateways } from './two-gateways.js';

let cluster: TwoGateways;

beforeAll(async () => {
  cluster = await twoGatewaysOnRedis({
    keyPrefix: 'queue-test:',
    gateway: { queueExtra: { waiting: { announceEverySeconds: 0 } } },
    phone: { answerMode: 'auto' },
    bHearsPhone: true,
  });
});
afterAll(async () => {
  await cluster?.close();
});

/** The queue's callers as `gateway` last settled them, once `test` holds (the queue service's event). */
async function waitingWhen(
  gateway: Gateway,
  test: (callers: readonly WaitingEntry[]) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<readonly WaitingEntry[]> {
  const queues = gateway.telephony.queues;
  const signal = AbortSignal.timeout(timeoutMs);
  let last: readonly WaitingEntry[] = [];
  try {
    for (;;) {
      const [name, callers] = (await once(queues, 'waiting', { signal })) as [
        string,
        readonly WaitingEntry[],
      ];
      if (name !== 'sales') continue;
      last = callers;
      if (test(callers)) return callers;
    }
  } catch {
    throw new Error(`${what}: last seen ${JSON.stringify(last.map((e) => e.callId))}`);
  }
}

/** Queue positions told to each call's caller (live flow events, not stored), by gateway. */
const told = new Map<Gateway, Map<string, number[]>>();

function listenForPositions(gateway: Gateway): void {
  const calls = new Map<string, number[]>();
  told.set(gateway, calls);
  gateway.telephony.addSink({
    event(e) {
      if (e.type !== 'queue.position') return;
      calls.set(e.callId, [...(calls.get(e.callId) ?? []), e.position]);
    },
  });
}

function positions(gateway: Gateway, callId: string): number[] {
  return told.get(gateway)?.get(callId) ?? [];
}

describe.skipIf(!sippAvailable())('queue membership across gateways (Redis)', () => {
  it('offers a caller waiting on A to the agent freed on B; positions are the cluster’s', async () => {
    const { a, b, phone } = cluster;
    listenForPositions(a.gateway);
    listenForPositions(b.gateway);
    const port = (address: string) => address.slice(address.lastIndexOf(':') + 1);

    // The agent is in a call on B (a visitor that waits for the gateway's BYE).
    const busyCall = runSipp({
      scenario: await bundledScenario('uac-bearer-await-bye'),
      remote: b.udp,
      service: 'sales',
      calls: 1,
      injection: { rows: [[await b.token({ subject: 'busy-on-b' })]] },
      timeoutMs: 60_000,
    });
    await until(() => b.gateway.agents.get('agent1')?.state === 'busy', 'the agent busy on B');
    await until(() => phone.receivedRequests('INVITE').length === 1, 'the agent’s INVITE from B');

    // A caller on A: the agent is taken on B, so it waits, first.
    const firstJoined = waitingWhen(
      a.gateway,
      (w) => w.length === 1,
      'the first caller waiting on A',
    );
    const first = runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: a.udp,
      service: 'sales',
      calls: 1,
      callDurationMs: 12_000,
      injection: { rows: [[await a.token({ subject: 'first-on-a' })]] },
      timeoutMs: 60_000,
    });
    const firstId = (await firstJoined)[0]!.callId;

    // A second caller, on B: B sees both, A's first.
    const bothOnB = waitingWhen(b.gateway, (w) => w.length === 2, 'both callers in B’s view');
    const bothOnA = waitingWhen(a.gateway, (w) => w.length === 2, 'both callers in A’s view');
    const second = runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: b.udp,
      service: 'sales',
      calls: 1,
      callDurationMs: 7_000,
      injection: { rows: [[await b.token({ subject: 'second-on-b' })]] },
      timeoutMs: 60_000,
    });
    const both = await bothOnB;
    expect(both[0]!.callId).toBe(firstId);
    const secondId = both[1]!.callId;
    expect((await bothOnA).map((e) => e.callId)).toEqual([firstId, secondId]);
    await until(() => positions(b.gateway, secondId).includes(2), 'the second caller told 2nd');
    // Nobody rang the agent while it was busy on B.
    expect(phone.receivedRequests('INVITE')).toHaveLength(1);
    expect(a.gateway.agents.get('agent1')?.state).toBe('busy'); // B told A of its call

    // The agent's call on B ends: A offers its caller, the agent answers.
    const secondMovesUp = until(
      () => positions(b.gateway, secondId).at(-1) === 1,
      'the second caller first once the first is offered',
    );
    await phone.hangup();
    const busyResult = await busyCall;
    expect(busyResult.stats.successful, busyResult.output).toBe(1);
    await until(
      () => phone.receivedRequests('INVITE').length === 2,
      'the agent rung for A’s caller',
    );
    expect(phone.receivedRequests('INVITE')[1]!.source).toContain(`:${port(a.udp)}`);
    await secondMovesUp;

    const firstResult = await first;
    expect(firstResult.stats.successful, `${firstResult.output}\n${firstResult.errors}`).toBe(1);
    await second;
    await a.callsEnded();
    await b.callsEnded();

    const record = await a.gateway.callStore.get(firstId);
    expect(record).toMatchObject({
      sessionId: 'first-on-a',
      agentId: 'agent1',
      outcome: 'answered',
    });
    const events = await a.gateway.telephony.events.list(firstId);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'queue.offered', queue: 'sales', agentId: 'agent1' }),
    );
    const enqueue = events.find(
      (e): e is Extract<FlowEvent, { type: 'verb.result' }> =>
        e.type === 'verb.result' && e.verb === 'enqueue',
    );
    expect(enqueue?.result, JSON.stringify(events)).toMatchObject({
      status: 'bridged',
      queue: 'sales',
    });
    // The first caller was first throughout.
    expect(positions(a.gateway, firstId).length).toBeGreaterThan(0);
    expect(new Set(positions(a.gateway, firstId))).toEqual(new Set([1]));
    // The second caller hung up waiting: never offered the agent while it talked on A.
    expect(phone.receivedRequests('INVITE')).toHaveLength(2);
    const secondRecord = await b.gateway.callStore.get(secondId);
    expect(secondRecord?.agentId ?? null).toBeNull();
    expect(await b.gateway.telephony.queues.size('sales')).toBe(0);
  }, 90_000);
});
