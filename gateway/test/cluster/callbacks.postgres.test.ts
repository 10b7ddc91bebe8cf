/**
 * Callbacks shared by two gateways (issue 16 item 1 for issue 13's records):
 * A and B on one PostgreSQL (`storage.kind: postgres`) and one redis-server
 * (the leases). A callback asked through A is read and cancelled through B;
 * one A still had scheduled when it stopped is taken over by B (the
 * lost-gateway sweeper, once A's lease is gone) and attempted there, once.
 */
import {
  startPostgres,
  startRedis,
  stopAll,
  until,
  type Postgres,
  type RedisServer,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startTestGateway, testKeys, type TestGateway } from '../harness.js';

let postgres: Postgres;
let redis: RedisServer;
let a: TestGateway;
let b: TestGateway;
let aClosed = false;

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const url = await postgres.createDatabase('parley_callbacks_cluster');
  const keys = await testKeys();
  const start = (instanceId: string) =>
    startTestGateway({
      keys,
      config: {
        storage: { path: ':memory:', kind: 'postgres', postgres: { url } },
        shared: {
          instanceId,
          redis: { url: redis.url, keyPrefix: 'callbacks-test:' },
          heartbeatSeconds: 1,
          leaseSeconds: 3,
        },
        callbacks: { queues: { sales: { callerNumber: '+14155550188' } } },
      },
    });
  a = await start('gw-a');
  b = await start('gw-b');
}, 60_000);
afterAll(async () => {
  if (!aClosed) await a?.close();
  await b?.close();
  await redis?.stop();
  await postgres?.stop();
  await stopAll();
});

async function ask(gw: TestGateway, phone: string, when: Date) {
  const token = await gw.token({
    scope: 'callback:sales',
    privateClaims: { callback: { phone, when: when.toISOString() } },
  });
  const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, destination: 'sales' }),
  });
  const body = (await res.json()) as { id: string; key: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

async function read(gw: TestGateway, id: string) {
  const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks/${id}`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('callbacks shared by two gateways on PostgreSQL', () => {
  it('reads and cancels through B a callback asked through A', async () => {
    const { id, key } = await ask(a, '+14155550123', new Date(Date.now() + 86_400_000));
    const viaB = await read(b, id);
    expect(viaB.status, JSON.stringify(viaB.body)).toBe(200);
    expect(viaB.body).toMatchObject({ id, state: 'scheduled', phone: '+14155550123' });
    const cancel = await fetch(`${b.gateway.httpUrl}/v1/callbacks/${id}/cancel?key=${key}`, {
      method: 'POST',
    });
    expect(await cancel.json()).toMatchObject({ id, state: 'ended', outcome: 'cancelled' });
    expect((await read(a, id)).body).toMatchObject({ state: 'ended', outcome: 'cancelled' });
  });

  it('runs on B, once, a callback A had scheduled when it stopped', async () => {
    const { id } = await ask(a, '+14155550124', new Date(Date.now() + 5000));
    await a.close();
    aClosed = true;
    // B's sweeper finds A's lease gone, takes the callback over and attempts it at its time.
    await until(
      async () => {
        const { body } = await read(b, id);
        return body['state'] === 'ended' ? body : undefined;
      },
      'the callback attempted on B',
      30_000,
      200,
    );
    const { body } = await read(b, id);
    expect(body['attempts'], JSON.stringify(body)).toHaveLength(1);
  });
});
