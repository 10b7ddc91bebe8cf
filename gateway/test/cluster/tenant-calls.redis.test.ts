/**
 * A tenant's concurrent-call cap holds across the gateways of a cluster
 * (issue 16 item 1): with `maxConcurrentCalls: 1`, a call in progress on
 * gateway A makes gateway B refuse the tenant's next call 503
 * `tenant_call_limit`; once it ended, B takes calls again. Real peers: one
 * redis-server, a baresip agent, sipp visitors.
 */
import type { BaresipAgent } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../harness.js';
import { finalResponse } from '../sipp-log.js';
import { twoGatewaysOnRedis, visitorCall as call, type TwoGateways } from './two-gateways.js';

let cluster: TwoGateways;
let a: TestGateway;
let b: TestGateway;
let phone: BaresipAgent;

beforeAll(async () => {
  cluster = await twoGatewaysOnRedis({
    keyPrefix: 'tenant-test:',
    gateway: { tenantMaxCalls: 1, agents: [{ id: 'agent1', maxCalls: 2 }] },
  });
  ({ a, b, phone } = cluster);
});
afterAll(async () => {
  await cluster?.close();
});

describe("a tenant's call cap across gateways", () => {
  it('refuses on B while A has the tenant’s one call, and takes it once that ended', async () => {
    const mark = phone.sipMessages().length;
    const first = call(a, 'sess-a', 4000);
    await phone.waitForRequest('INVITE', undefined, 10_000, { since: mark });
    const refused = await call(b, 'sess-b', 500);
    const final = finalResponse(refused.messages);
    expect(final?.status).toBe(503);
    expect(final?.header('Reason')).toBe('SIP;cause=503;text="tenant_call_limit"');
    expect((await first).stats.successful).toBe(1);
    // A's call ended: its claim is released, B takes the tenant's next call.
    await a.callsEnded();
    const again = await call(b, 'sess-b2', 500);
    expect(again.stats.successful, again.output).toBe(1);
  });
});
