/**
 * An agent's wrap-up holds on every gateway (issue 16). The queue gives
 * 4 s of wrap-up after a call. The agent (baresip, registered with A)
 * answers a call on B; when it ends, B puts the agent in wrap-up and tells
 * the others (the `agents` channel): A shows the agent in wrap-up too, so a
 * caller on A waits instead of ringing the agent at once, and is offered it
 * when the wrap-up ends (the phone's second INVITE comes from A, not before
 * B's wrap-up is over). Before, A saw the agent free and rang it at once.
 */
import { bundledScenario, runSipp, sippAvailable, until } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twoGatewaysOnRedis, type TwoGateways } from './two-gateways.js';

const WRAP_UP_SECONDS = 4;
let cluster: TwoGateways;

beforeAll(async () => {
  cluster = await twoGatewaysOnRedis({
    keyPrefix: 'wrap-up-test:',
    gateway: {
      queueExtra: {
        wrapUpSeconds: WRAP_UP_SECONDS,
        waiting: { announceEverySeconds: 0, maxWaitSeconds: 60 },
      },
    },
    phone: { answerMode: 'auto' },
    bHearsPhone: true,
  });
});
afterAll(async () => {
  await cluster?.close();
});

describe.skipIf(!sippAvailable())('wrap-up across gateways', () => {
  it('keeps a caller on A from an agent in wrap-up after a call on B, then offers it', async () => {
    const { a, b, phone } = cluster;
    const port = (address: string) => address.slice(address.lastIndexOf(':') + 1);

    // A call on B, answered by the agent, ended by the visitor after 1 s.
    const onB = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: b.udp,
      service: 'sales',
      calls: 1,
      callDurationMs: 1000,
      injection: { rows: [[await b.token({ subject: 'on-b' })]] },
      timeoutMs: 30_000,
    });
    expect(onB.stats.successful, onB.output).toBe(1);
    expect(phone.receivedRequests('INVITE')).toHaveLength(1);
    // B releases the agent after the BYE's 200 sipp already has: wait for it.
    const onBWrapUp = await until(
      () => b.gateway.agents.get('agent1')?.wrapUpUntil,
      'the agent in wrap-up on B',
    );
    // A hears of it: the agent is in wrap-up there too, until the same time.
    await until(
      () => a.gateway.agents.get('agent1')?.state === 'wrap-up',
      'the agent in wrap-up on A',
    );
    expect(a.gateway.agents.get('agent1')?.wrapUpUntil).toBe(onBWrapUp);

    // A caller on A meanwhile: not rung at once; offered once the wrap-up ends.
    const since = phone.sipMessages().length;
    const caller = runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: a.udp,
      service: 'sales',
      calls: 1,
      callDurationMs: 10_000, // on hold, then with the agent
      injection: { rows: [[await a.token({ subject: 'waiting-on-a' })]] },
      timeoutMs: 60_000,
    });
    const invite = await phone.waitForRequest('INVITE', undefined, 15_000, { since });
    const rungAt = Date.now();
    expect(invite.source).toContain(`:${port(a.udp)}`);
    expect(rungAt).toBeGreaterThanOrEqual(onBWrapUp!);
    const result = await caller;
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    await a.callsEnded();
    await b.callsEnded();
    expect(phone.receivedRequests('INVITE')).toHaveLength(2);
  }, 90_000);
});
