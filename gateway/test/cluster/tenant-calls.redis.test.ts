/**
 * A tenant's concurrent-call cap holds across the gateways of a cluster
 * (issue 16 item 1): with `maxConcurrentCalls: 1`, a call in progress on
 * gateway A makes gateway B refuse the tenant's next call 503
 * `tenant_call_limit`; once it ended, B takes calls again. Real peers: one
 * redis-server, a baresip agent, sipp visitors.
 */
import {
  bundledScenario,
  runSipp,
  startBaresipAgent,
  startRedis,
  stopAll,
  type BaresipAgent,
  type RedisServer,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, testKeys, type TestGateway } from '../harness.js';
import { finalResponse } from '../sipp-log.js';

let redis: RedisServer;
let a: TestGateway;
let b: TestGateway;
let phone: BaresipAgent;

beforeAll(async () => {
  redis = await startRedis();
  const keys = await testKeys();
  const start = (instanceId: string) =>
    startTestGateway({
      keys,
      tenantMaxCalls: 1,
      agents: [{ id: 'agent1', maxCalls: 2 }],
      config: {
        media: { address: '127.0.0.1' },
        shared: { instanceId, redis: { url: redis.url, keyPrefix: 'tenant-test:' } },
      },
    });
  a = await start('gw-a');
  b = await start('gw-b');
  phone = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: a.udp,
    transport: 'udp',
    answerMode: 'auto',
  });
  await phone.registered();
});
afterAll(async () => {
  await phone?.stop();
  await a?.close();
  await b?.close();
  await redis?.stop();
  await stopAll();
});

async function call(gw: TestGateway, subject: string, durationMs: number) {
  return runSipp({
    scenario: await bundledScenario('uac-bearer-pcmu'),
    remote: gw.udp,
    service: 'sales',
    calls: 1,
    callDurationMs: durationMs,
    injection: { rows: [[await gw.token({ subject })]] },
    timeoutMs: 30_000,
    recvTimeoutMs: 20_000,
  });
}

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
