/**
 * An agent's state that changed while Redis was away reaches the other
 * gateways once it is back (issue 16). A gateway's writes fail while Redis is
 * down (no offline queue: a call is never held by Redis), and a Redis that
 * restarts has lost every hash. Before, nothing was written again: the end of
 * a wrap-up chosen on B's desk during the outage never reached A (A kept the
 * agent in wrap-up, offering it nothing, until the wrap-up's own end), and a
 * gateway started after the restart did not know the phone registered with A
 * until its next REGISTER.
 */
import { sippAvailable, until } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twoGatewaysOnRedis, visitorCall, type TwoGateways } from './two-gateways.js';

// Far longer than the test: only the desk's "available" ends it.
const WRAP_UP_SECONDS = 300;
let cluster: TwoGateways;

beforeAll(async () => {
  cluster = await twoGatewaysOnRedis({
    keyPrefix: 'agents-outage-test:',
    gateway: { queueExtra: { wrapUpSeconds: WRAP_UP_SECONDS } },
    phone: { answerMode: 'auto' },
    bHearsPhone: true,
  });
});
afterAll(async () => {
  await cluster?.close();
});

describe.skipIf(!sippAvailable())('agent state across a Redis outage', () => {
  it("writes again what changed while Redis was away: B's end of a wrap-up reaches A, the phone a new gateway", async () => {
    const { a, b, redis } = cluster;
    const onB = await visitorCall(b, 'on-b', 500);
    expect(onB.stats.successful, onB.output).toBe(1);
    await until(() => a.gateway.agents.get('agent1')?.state === 'wrap-up', "A hears B's wrap-up");

    await redis.kill();
    await until(() => !b.gateway.shared.redis?.up, "B's link down");
    // The agent chooses "available" on B's desk while Redis is away: B cannot tell anyone.
    b.gateway.agents.setAvailability('agent1', 'available');
    expect(b.gateway.agents.get('agent1')?.state).toBe('available');
    expect(a.gateway.agents.get('agent1')?.state).toBe('wrap-up');

    // Redis comes back, empty.
    await redis.restart();
    await until(
      () => a.gateway.agents.get('agent1')?.state === 'available',
      'A hears the end once Redis is back',
      20_000,
    );

    // A wrote its phone's registration again: a gateway started now can ring it.
    await until(() => a.gateway.shared.redis?.up, "A's link up");
    const c = await cluster.startAnother('gw-c');
    expect(c.gateway.agents.get('agent1')).toMatchObject({ registered: true, state: 'available' });
  }, 90_000);
});
