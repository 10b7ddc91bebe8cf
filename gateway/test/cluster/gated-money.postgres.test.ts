/**
 * A gated facility's accounts and money shared by the cluster (issue 16
 * item 1): gateways A and B on one PostgreSQL (`storage.kind: postgres`,
 * migrated at start), each with its own SQLite file. An account made
 * through A's API is B's too; one credit sent to both APIs at once counts
 * once; calls of that account metered on both gateways at once (each
 * gateway's own `Meter`, as the call path starts it at connect) charge each
 * first minute once and never overdraw the balance; either API shows the
 * charges and the balance. A restarted B closes only its own meters.
 */
import { startPostgres, type Postgres } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PinHasher } from '../../src/gated/index.js';
import { API_KEY, TENANT, startTestGateway, testKeys, type TestGateway } from '../harness.js';

let postgres: Postgres;
let a: TestGateway;
let b: TestGateway;
let url: string;
const base = `/v1/gated/${TENANT}`;

async function api(
  gw: TestGateway,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gw.gateway.httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${API_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

const keys = testKeys();
const start = async (instanceId: string) =>
  startTestGateway({
    keys: await keys,
    tenantExtra: { gated: {} },
    pins: new PinHasher({ logN: 4, r: 8, p: 1 }),
    config: {
      storage: { path: ':memory:', kind: 'postgres', postgres: { url } },
      shared: { instanceId },
    },
  });

afterAll(async () => {
  await a?.close();
  await b?.close();
  await postgres?.stop();
});

describe('gated money shared by two gateways', () => {
  beforeAll(async () => {
    postgres = await startPostgres();
    url = await postgres.createDatabase('parley_gated_money');
    a = await start('gw-a');
    b = await start('gw-b');
  }, 60_000);

  it('one account, one credit per key, no minute twice and no overdraft across gateways', async () => {
    const created = await api(a, 'POST', `${base}/accounts`, {
      name: 'Ada Caller',
      ratePerMinute: 10,
      number: '5550001',
    });
    expect(created.status).toBe(201);
    const id = created.body['id'] as string;
    expect((await api(b, 'GET', `${base}/accounts/${id}`)).body).toMatchObject({
      name: 'Ada Caller',
      balance: 0,
    });

    const credit = { amount: 55, key: 'topup-1' };
    const credits = await Promise.all([
      api(a, 'POST', `${base}/accounts/${id}/credits`, credit),
      api(b, 'POST', `${base}/accounts/${id}/credits`, credit),
    ]);
    expect(credits.map((c) => c.status).sort()).toEqual([200, 201]);
    expect(credits.map((c) => c.body)).toEqual([
      { balance: 55, duplicate: expect.any(Boolean) as boolean },
      { balance: 55, duplicate: expect.any(Boolean) as boolean },
    ]);

    // Six calls of the account connect at once, three on each gateway: 55 pays five first minutes.
    const started = await Promise.all(
      [a, b, a, b, a, b].map((gw, i) =>
        gw.gateway.gated.meter.start({
          callId: `call-${i}`,
          tenant: TENANT,
          accountId: id,
          ratePerMinute: 10,
        }),
      ),
    );
    expect(started.filter((s) => s.ok)).toHaveLength(5);
    expect(started.filter((s) => !s.ok && s.reason === 'insufficient')).toHaveLength(1);
    // A second start of each on the other gateway (a confused call path) charges nothing.
    const again = await Promise.all(
      started.map((s, i) =>
        s.ok
          ? (i % 2 === 0 ? b : a).gateway.gated.meter.start({
              callId: `call-${i}`,
              tenant: TENANT,
              accountId: id,
              ratePerMinute: 10,
            })
          : undefined,
      ),
    );
    expect(again.filter((s) => s?.ok && s.duplicate)).toHaveLength(5);

    for (const gw of [a, b]) {
      const account = await api(gw, 'GET', `${base}/accounts/${id}`);
      expect(account.body['balance']).toBe(5);
      const charges = await api(gw, 'GET', `${base}/accounts/${id}/charges`);
      expect(charges.body['charges']).toHaveLength(5);
    }

    // B stops (its meters left running, as after a kill) and starts again: it closes its own only.
    const bCalls = started.flatMap((s, i) => (s.ok && i % 2 === 1 ? [`call-${i}`] : []));
    const aCalls = started.flatMap((s, i) => (s.ok && i % 2 === 0 ? [`call-${i}`] : []));
    await b.close();
    b = await start('gw-b');
    const billing = b.gateway.gated.store.billing;
    for (const callId of bCalls)
      expect(await billing.meter(callId)).toMatchObject({
        state: 'interrupted',
        endReason: 'gateway_restart',
      });
    for (const callId of aCalls) expect((await billing.meter(callId))?.state).toBe('running');
    // A's meters (and the timers of B's calls its second starts began) stop at their hang-up.
    for (const callId of [...aCalls, ...bCalls]) await a.gateway.gated.meter.stop(callId);
    for (const callId of aCalls)
      expect(await billing.meter(callId)).toMatchObject({ state: 'ended', endReason: 'hangup' });
  });
});
