/**
 * A gated call's meter on a gateway that is lost (issue 16): gateways A and
 * B on one PostgreSQL and one Redis; B meters two calls of an account (each
 * first minute charged at connect, as the call path starts it) and stops
 * without closing them, as a kill leaves them. Nobody restarts B, so once its
 * lease in Redis is gone A's lost-gateway sweeper closes B's meters
 * (`interrupted`, `gateway_lost`): their charged minutes stand, no other
 * money moves, and A's own running meter is left alone. Before, a lost
 * gateway's meters stayed `running` until it came back under its id.
 */
import { startPostgres, startRedis, until, type Postgres, type RedisServer } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PinHasher } from '../../src/gated/index.js';
import { TENANT, startTestGateway, testKeys, type TestGateway } from '../harness.js';

let postgres: Postgres;
let redis: RedisServer;
let a: TestGateway;
let b: TestGateway | undefined;

const keys = testKeys();
async function start(instanceId: string, url: string): Promise<TestGateway> {
  return startTestGateway({
    keys: await keys,
    tenantExtra: { gated: {} },
    pins: new PinHasher({ logN: 4, r: 8, p: 1 }),
    config: {
      storage: { path: ':memory:', kind: 'postgres', postgres: { url } },
      // Short so the test is short: the survivor sweeps every heartbeat.
      shared: {
        instanceId,
        redis: { url: redis.url, keyPrefix: 'lost-meters-test:' },
        heartbeatSeconds: 1,
        leaseSeconds: 3,
      },
    },
  });
}

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const url = await postgres.createDatabase('parley_lost_meters');
  a = await start('gw-a', url);
  b = await start('gw-b', url);
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await Promise.all([postgres?.stop(), redis?.stop()]);
});

describe('a lost gateway’s gated meters', () => {
  it('are closed by a survivor once the lost one’s lease is gone; the charged minutes stand', async () => {
    const store = a.gateway.gated.store;
    const base = `/v1/gated/${TENANT}`;
    const created = await a.apiRequest<{ id: string }>('POST', `${base}/accounts`, {
      name: 'Ada Caller',
      ratePerMinute: 10,
      number: '5550001',
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const credit = { amount: 100, key: 'topup-1' };
    expect((await a.apiRequest('POST', `${base}/accounts/${id}/credits`, credit)).status).toBe(201);
    const call = (callId: string) => ({ callId, tenant: TENANT, accountId: id, ratePerMinute: 10 });
    const started = await Promise.all([
      b!.gateway.gated.meter.start(call('on-b-1')),
      b!.gateway.gated.meter.start(call('on-b-2')),
      a.gateway.gated.meter.start(call('on-a')),
    ]);
    expect(started.map((s) => s.ok)).toEqual([true, true, true]);

    // B goes without closing its meters (its timers stop, the rows stay `running`).
    const lost = b!;
    b = undefined;
    lost.gateway.gated.meter.close();
    await lost.close();

    const billing = store.billing;
    const closed = await until(async () => {
      const meters = await Promise.all(['on-b-1', 'on-b-2'].map((id) => billing.meter(id)));
      return meters.every((m) => m?.state === 'interrupted') ? meters : undefined;
    }, "B's meters closed by A");
    expect(closed.map((m) => [m?.callId, m?.endReason, m?.minutesCharged])).toEqual([
      ['on-b-1', 'gateway_lost', 1],
      ['on-b-2', 'gateway_lost', 1],
    ]);
    expect((await billing.meter('on-a'))?.state).toBe('running');
    expect((await store.accounts.get(TENANT, id))?.balance).toBe(70);
    expect(await billing.charges(TENANT, 'on-b-1')).toHaveLength(1);

    await a.gateway.gated.meter.stop('on-a');
    expect(await billing.meter('on-a')).toMatchObject({ state: 'ended', endReason: 'hangup' });
  });
});
