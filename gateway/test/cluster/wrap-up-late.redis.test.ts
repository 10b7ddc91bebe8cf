/**
 * A gateway started during an agent's wrap-up knows it (issue 16): the
 * wrap-up B gives after a call is in the agent's Redis hash as well as on the
 * `agents` channel, so C, started while it lasts, reads it at start and offers
 * the agent nothing until it ends; "available" chosen on B's desk ends it on
 * every gateway, and a gateway started after that does not see it. Before,
 * the wrap-up was on the channel only and C saw the agent free at once.
 */
import { sippAvailable, until } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twoGatewaysOnRedis, visitorCall, type TwoGateways } from './two-gateways.js';

// Long enough that starting gateways never outlasts it; ended on the desk.
const WRAP_UP_SECONDS = 120;
let cluster: TwoGateways;

beforeAll(async () => {
  cluster = await twoGatewaysOnRedis({
    keyPrefix: 'wrap-up-late-test:',
    gateway: { queueExtra: { wrapUpSeconds: WRAP_UP_SECONDS } },
    phone: { answerMode: 'auto' },
    bHearsPhone: true,
  });
});
afterAll(async () => {
  await cluster?.close();
});

describe.skipIf(!sippAvailable())('wrap-up read by a gateway that starts during it', () => {
  it('shows the wrap-up on a late gateway, and its end chosen on the desk', async () => {
    const { a, b } = cluster;
    const onB = await visitorCall(b, 'on-b', 500);
    expect(onB.stats.successful, onB.output).toBe(1);
    const wrapUpUntil = await until(
      () => b.gateway.agents.get('agent1')?.wrapUpUntil,
      'the agent in wrap-up on B',
    );

    // C starts during the wrap-up: it knows it from the hash at once.
    const c = await cluster.startAnother('gw-c');
    expect(c.gateway.agents.get('agent1')).toMatchObject({ state: 'wrap-up', wrapUpUntil });

    // The agent chooses "available" on B's desk: the wrap-up ends everywhere.
    b.gateway.agents.setAvailability('agent1', 'available');
    expect(b.gateway.agents.get('agent1')?.wrapUpUntil).toBeUndefined();
    await until(() => c.gateway.agents.get('agent1')?.state === 'available', 'C sees the end');
    await until(() => a.gateway.agents.get('agent1')?.state === 'available', 'A sees the end');

    // D starts after: no wrap-up.
    const d = await cluster.startAnother('gw-d');
    expect(d.gateway.agents.get('agent1')?.wrapUpUntil).toBeUndefined();
    expect(d.gateway.agents.get('agent1')?.state).toBe('available');
  }, 90_000);
});
