/**
 * A gated facility's residents, devices and PIN lockouts shared by the
 * cluster (issue 16 item 1): gateways A and B on one PostgreSQL
 * (`storage.kind: postgres`), each with its own SQLite file. A device and a
 * resident made through A's API are B's too: baresip registers with B using
 * the device credential A made (B's registrar finds it in PostgreSQL), and
 * B's Gate lets an approved caller ring the resident at that contact. Wrong
 * account PINs keyed through A lock the account number out on B as well,
 * and the audit log read through B shows what A did.
 */
import {
  startBaresipAgent,
  startPostgres,
  stopAll,
  type BaresipAgent,
  type Postgres,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PinHasher, type AuthorizeContext } from '../../src/gated/index.js';
import { TENANT, startTestGateway, testKeys, type TestGateway } from '../harness.js';

let postgres: Postgres;
let a: TestGateway;
let b: TestGateway;
let phone: BaresipAgent | undefined;
let url: string;
const base = `/v1/gated/${TENANT}`;
const MAX_FAILURES = 3;

const keys = testKeys();
const start = async (instanceId: string) =>
  startTestGateway({
    keys: await keys,
    agents: [],
    tenantExtra: { gated: { pin: { maxFailures: MAX_FAILURES, delayMs: 0 } } },
    // baresip 1.0 fails on a SHA-256 challenge instead of skipping it.
    sipExtra: { digestAlgorithms: ['MD5'] },
    pins: new PinHasher({ logN: 4, r: 8, p: 1 }),
    config: {
      storage: { path: ':memory:', kind: 'postgres', postgres: { url } },
      shared: { instanceId },
    },
  });

afterAll(async () => {
  await phone?.stop();
  await a?.close();
  await b?.close();
  await postgres?.stop();
  await stopAll();
});

describe('gated residents, devices and lockouts shared by two gateways', () => {
  beforeAll(async () => {
    postgres = await startPostgres();
    url = await postgres.createDatabase('parley_gated_residents');
    a = await start('gw-a');
    b = await start('gw-b');
  }, 60_000);

  it('a device made through A registers with B, and B rings its resident', async () => {
    const created = await a.apiRequest<{ credential: { sipUser: string; secret: string } }>(
      'PUT',
      `${base}/devices/cell-12`,
      { kind: 'sip', name: 'Cell 12 phone' },
    );
    expect(created.status).toBe(201);
    const { sipUser, secret } = created.body.credential;
    await a.apiRequest('PUT', `${base}/residents/r-1`, {
      name: 'Rita',
      pin: '2468',
      devices: ['cell-12'],
    });
    const account = await a.apiRequest<{ id: string }>('POST', `${base}/accounts`, {
      name: 'Grace Hopper',
      phones: [{ number: '+14155550123', verified: true }],
    });
    await a.apiRequest('PUT', `${base}/accounts/${account.body.id}/residents/r-1`, {
      status: 'approved',
    });
    await a.apiRequest('POST', `${base}/accounts/${account.body.id}/credits`, {
      amount: 100,
      key: 'k',
    });
    expect((await b.apiRequest('GET', `${base}/residents/r-1`)).body).toMatchObject({
      name: 'Rita',
      devices: ['cell-12'],
    });

    phone = await startBaresipAgent({
      user: sipUser,
      password: secret,
      registrar: b.udp,
      transport: 'udp',
    });
    await phone.registered();
    expect(b.gateway.gated.gate.deviceContacts(TENANT, 'cell-12')[0]?.uri).toMatch(
      new RegExp(`^sip:${sipUser}`),
    );
    const allowed = await b.gateway.gated.gate.authorize({
      callId: 'on-b',
      tenant: TENANT,
      channel: 'phone',
      callerNumber: '+14155550123',
    });
    expect(allowed).toMatchObject({
      allowed: true,
      residentId: 'r-1',
      devices: [{ address: 'cell-12', kind: 'sip', sipUser }],
    });
    // The audit log is the cluster's: B shows A's changes.
    const audit = await b.apiRequest<{ entries: { action: string }[] }>(
      'GET',
      `${base}/audit?entity=device&entityId=cell-12`,
    );
    expect(audit.body.entries.map((e) => e.action)).toEqual(['device.create']);
  });

  it('wrong account PINs keyed on A lock the account number out on B', async () => {
    const created = await a.apiRequest<{ number: string }>('POST', `${base}/accounts`, {
      name: 'Eve Guesser',
      pin: '9753',
    });
    const number = created.body.number;
    const ctx = (callId: string, pin: string): AuthorizeContext => ({
      callId,
      tenant: TENANT,
      channel: 'phone',
      account: { number, pin },
    });
    for (let i = 0; i < MAX_FAILURES; i += 1)
      expect((await a.gateway.gated.gate.authorize(ctx(`a-${i}`, '1111'))).failed).toBe(
        'account_pin',
      );
    // The right PIN, on the other gateway: not even checked.
    const onB = await b.gateway.gated.gate.authorize(ctx('b-1', '9753'));
    expect(onB).toMatchObject({ allowed: false, failed: 'pin_lockout' });
    expect(
      (await b.gateway.gated.store.pinAttempts.get(`account:${TENANT}/#${number}`))?.lockedUntil,
    ).toBeGreaterThan(Date.now());
  });
});
