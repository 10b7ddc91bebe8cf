/**
 * The facility's API (`/v1/gated/<tenant>/…`) and the resident device's API
 * (`/resident/api/…`) on a real gateway: validation with the registry's
 * errors, tenant isolation (another tenant's key learns nothing, not even
 * that something exists), the audit log of every change without secrets, and
 * the decisions the Gate stores, read back through the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PinHasher } from '../src/gated/index.js';
import { API_KEY, TENANT, startTestGateway, type TestGateway } from './harness.js';

const OTHER_KEY = 'other-tenant-key-0123456789';
const READ_KEY = 'read-only-key-0123456789';
let gw: TestGateway;

type Body = Record<string, unknown> & {
  error?: { code: string; message: string; detail?: string };
};

async function call(
  method: string,
  path: string,
  body?: unknown,
  key = API_KEY,
): Promise<{ status: number; body: Body; headers: Headers }> {
  const res = await fetch(`${gw.gateway.httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Body, headers: res.headers };
}

const base = `/v1/gated/${TENANT}`;

beforeAll(async () => {
  gw = await startTestGateway({
    tenantExtra: { gated: { pin: { maxFailures: 3, delayMs: 0 } } },
    otherTenants: ['other'],
    pins: new PinHasher({ logN: 4, r: 8, p: 1 }),
    config: {
      api: {
        keys: [
          { id: 'test', key: API_KEY, privateClaims: true },
          { id: 'other', key: OTHER_KEY, tenant: 'other', privateClaims: false },
          { id: 'reader', key: READ_KEY, privateClaims: false, scopes: ['read'] },
        ],
      },
    },
  });
});

afterAll(async () => {
  await gw?.close();
});

describe('the facility’s API', () => {
  let secret = '';
  let accountId = '';

  it('creates a device and shows its credential once', async () => {
    const created = await call('PUT', `${base}/devices/tab-7`, {
      kind: 'app',
      name: 'Unit B tablet 7',
    });
    expect(created.status).toBe(201);
    const credential = created.body['credential'] as { sipUser: string; secret: string };
    expect(credential.sipUser).toMatch(/^gd-[0-9a-f]{16}$/);
    expect(credential.secret.length).toBeGreaterThanOrEqual(32);
    secret = credential.secret;
    const read = await call('GET', `${base}/devices/tab-7`);
    expect(read.body).toMatchObject({
      address: 'tab-7',
      kind: 'app',
      registered: false,
      active: false,
    });
    expect(JSON.stringify(read.body)).not.toContain(secret);
    expect(read.body).not.toHaveProperty('credential');
    await call('PUT', `${base}/devices/cell-12`, { kind: 'sip' });
  });

  it('creates residents with write-only PINs tied to their devices', async () => {
    const r = await call('PUT', `${base}/residents/r-1`, {
      name: 'Rita Resident',
      number: '1001',
      pin: '2468',
      devices: ['tab-7', 'cell-12'],
    });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      id: 'r-1',
      name: 'Rita Resident',
      number: '1001',
      status: 'active',
      devices: ['cell-12', 'tab-7'],
      pinSet: true,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const changed = await call('PUT', `${base}/residents/r-1`, { status: 'inactive' });
    expect(changed).toMatchObject({
      status: 200,
      body: { status: 'inactive', pinSet: true, name: 'Rita Resident' },
    });
    await call('PUT', `${base}/residents/r-1`, { status: 'active' });
  });

  it('opens an account with an E.164 number from a national one, approves it, and credits it once per key', async () => {
    const a = await call('POST', `${base}/accounts`, {
      name: 'Grace Hopper',
      phones: [{ number: '(415) 555-0123', country: 'US', verified: true }],
      pin: '9753',
      ratePerMinute: 25,
    });
    expect(a.status).toBe(201);
    accountId = String(a.body['id']);
    expect(a.body).toMatchObject({
      name: 'Grace Hopper',
      number: expect.stringMatching(/^\d{10}$/),
      phones: [{ number: '+14155550123', verified: true }],
      balance: 0,
      currency: 'USD',
      ratePerMinute: 25,
      status: 'active',
      pinSet: true,
      residents: [],
    });
    const approved = await call('PUT', `${base}/accounts/${accountId}/residents/r-1`, {
      status: 'approved',
    });
    expect(approved.body['residents']).toEqual([
      {
        residentId: 'r-1',
        status: 'approved',
        decidedAt: expect.any(String),
        decidedBy: 'api:test',
      },
    ]);
    const credit = { amount: 1000, key: 'receipt-4711', note: 'money order' };
    expect(await call('POST', `${base}/accounts/${accountId}/credits`, credit)).toMatchObject({
      status: 201,
      body: { balance: 1000, duplicate: false },
    });
    expect(await call('POST', `${base}/accounts/${accountId}/credits`, credit)).toMatchObject({
      status: 200,
      body: { balance: 1000, duplicate: true },
    });
    expect(
      await call('POST', `${base}/accounts/${accountId}/credits`, { ...credit, amount: 5 }),
    ).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
  });

  it('answers bad input with 400 bad_request naming the field, and clashes with 409 conflict', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ['PUT', `${base}/residents/bad id!`, { name: 'x' }, 400, /resident id/],
      ['PUT', `${base}/residents/r-2`, { pin: '12' }, 400, /pin: 4-8 digits/],
      ['PUT', `${base}/residents/r-2`, { pin: '1234' }, 400, /name: required/],
      ['PUT', `${base}/residents/r-2`, { name: 'x', devices: ['nope'] }, 400, /no device "nope"/],
      ['PUT', `${base}/residents/r-2`, { name: 'x', number: '1001' }, 409, /another resident/],
      ['PUT', `${base}/residents/r-2`, { name: 'x', admin: true }, 400, /Unrecognized key/],
      ['PUT', `${base}/devices/d-1`, { name: 'no kind' }, 400, /kind: required/],
      ['PUT', `${base}/devices/d-1`, { kind: 'fax' }, 400, /kind/],
      [
        'PUT',
        `${base}/devices/d-1`,
        { kind: 'sip', callingHours: { timeZone: 'Mars/Olympus', weekly: {} } },
        400,
        /timeZone/,
      ],
      [
        'POST',
        `${base}/accounts`,
        { name: 'x', phones: [{ number: 'call me' }] },
        400,
        /phones\.0\.number/,
      ],
      [
        'POST',
        `${base}/accounts`,
        { name: 'x', phones: [{ number: '+14155550123' }] },
        409,
        /another account/,
      ],
      ['POST', `${base}/accounts`, { phones: [] }, 400, /name/],
      ['POST', `${base}/accounts`, { name: 'x', ratePerMinute: 1.5 }, 400, /ratePerMinute/],
      ['POST', `${base}/accounts/${'nope'}/credits`, { amount: 5, key: 'k' }, 404, /account/],
      ['GET', `${base}/accounts?limit=0`, undefined, 400, /limit/],
    ];
    for (const [method, path, body, status, detail] of cases) {
      const r = await call(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(status);
      expect(r.body.error?.code).toBe(
        status === 400 ? 'bad_request' : status === 409 ? 'conflict' : 'not_found',
      );
      expect(`${r.body.error?.detail ?? ''}`, `${method} ${path}`).toMatch(detail);
    }
    const credit = await call('POST', `${base}/accounts/${accountId}/credits`, {
      amount: 0,
      key: 'k',
    });
    expect(credit.body.error?.detail).toMatch(/amount/);
  });

  it('tells another tenant’s key nothing: every path is the 404 of a tenant that does not exist', async () => {
    const missing = await call(
      'GET',
      `/v1/gated/no-such-tenant/accounts/${accountId}`,
      undefined,
      OTHER_KEY,
    );
    for (const path of [
      `${base}/accounts/${accountId}`,
      `${base}/accounts/acc_does_not_exist`,
      `${base}/accounts`,
      `${base}/residents/r-1`,
      `${base}/decisions`,
      `${base}/audit`,
    ]) {
      const r = await call('GET', path, undefined, OTHER_KEY);
      expect({ status: r.status, body: r.body }, path).toEqual({
        status: missing.status,
        body: missing.body,
      });
    }
    const write = await call('PUT', `${base}/residents/r-9`, { name: 'x' }, OTHER_KEY);
    expect(write.status).toBe(404);
    expect((await call('GET', `${base}/residents/r-9`)).status).toBe(404);
    // A tenant that is not gated looks the same, even to a key for every tenant.
    const notGated = await call('GET', '/v1/gated/other/accounts');
    expect({ status: notGated.status, body: notGated.body }).toEqual({
      status: 404,
      body: missing.body,
    });
    // A key without the gated scope is refused as such.
    expect((await call('GET', `${base}/accounts`, undefined, READ_KEY)).body.error?.code).toBe(
      'forbidden',
    );
  });

  it('keeps an audit entry of every change: who, what, before and after, never a PIN or a secret', async () => {
    const { body } = await call('GET', `${base}/audit?limit=50`);
    const entries = body['entries'] as {
      actor: string;
      action: string;
      entityId: string;
      before: unknown;
      after: Record<string, unknown> | null;
    }[];
    expect(entries.map((e) => e.action).reverse()).toEqual([
      'device.create',
      'device.create',
      'resident.create',
      'resident.update',
      'resident.update',
      'account.create',
      'approval.set',
      'account.credit',
    ]);
    expect(entries.every((e) => e.actor === 'api:test')).toBe(true);
    const text = JSON.stringify(entries);
    // The PINs as whole JSON strings: a random account number may contain their digits.
    for (const secretish of [secret, '"2468"', '"9753"', 'scrypt', 'ha1'])
      expect(text).not.toContain(secretish);
    const residentCreate = entries.find((e) => e.action === 'resident.create');
    expect(residentCreate?.after).toMatchObject({ pinSet: true, pin: 'changed' });
    // Newest first: the first update (active → inactive) is the last of them.
    const update = entries.findLast((e) => e.action === 'resident.update');
    expect(update?.before).toMatchObject({ status: 'active' });
    expect(update?.after).toMatchObject({ status: 'inactive' });
    expect(entries.find((e) => e.action === 'account.credit')?.after).toMatchObject({
      balance: 1000,
      amount: 1000,
      key: 'receipt-4711',
    });
  });

  it('rotates a device credential: the old secret stops signing the device in', async () => {
    const session = (s: string) =>
      call('POST', '/resident/api/session', { tenant: TENANT, device: 'tab-7', secret: s });
    expect((await session(secret)).status).toBe(200);
    const rotated = await call('POST', `${base}/devices/tab-7/credential`);
    const fresh = (rotated.body['credential'] as { secret: string }).secret;
    expect((await session(secret)).body.error?.code).toBe('unauthorized');
    expect((await session(fresh)).status).toBe(200);
    secret = fresh;
  });

  it('shows the decisions the Gate stored, by call', async () => {
    const d = await gw.gateway.gated.gate.authorize({
      callId: 'call-api-1',
      tenant: TENANT,
      channel: 'phone',
      callerNumber: '+14155550123',
    });
    expect(d).toMatchObject({ allowed: false, failed: 'device_active' });
    const { body } = await call('GET', `${base}/decisions?callId=call-api-1`);
    expect(body['decisions']).toMatchObject([
      {
        id: d.id,
        stage: 'authorize',
        allowed: false,
        failed: 'device_active',
        accountId: accountId,
      },
    ]);
    expect((await call('GET', `${base}/decisions/${d.id}`)).body).toMatchObject({ id: d.id });
    expect((await call('GET', `${base}/decisions/${d.id}`, undefined, OTHER_KEY)).status).toBe(404);
  });
});

describe('the resident device’s API', () => {
  let token = '';
  const device = (method: string, path: string, body?: unknown) =>
    call(method, `/resident/api${path}`, body, token);

  it('signs the device in with its credential and gives its SIP settings', async () => {
    const r = await call('POST', '/resident/api/session', {
      tenant: TENANT,
      device: 'tab-7',
      secret: 'wrong',
    });
    expect(r).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    const rotated = await call('POST', `${base}/devices/tab-7/credential`);
    const secret = (rotated.body['credential'] as { secret: string }).secret;
    const ok = await call('POST', '/resident/api/session', {
      tenant: TENANT,
      device: 'tab-7',
      secret,
    });
    expect(ok.body).toMatchObject({
      device: { address: 'tab-7', kind: 'app' },
      sip: { wsPath: '/sip', domain: 'parley.test', username: expect.stringMatching(/^gd-/) },
    });
    token = String(ok.body['token']);
    expect(await device('GET', '/state')).toMatchObject({
      status: 200,
      body: { registered: false, signedIn: null },
    });
    expect((await call('GET', '/resident/api/state', undefined, 'not-a-session')).status).toBe(401);
  });

  it('signs a resident in with their PIN; wrong PINs are refused, then locked with Retry-After', async () => {
    expect(await device('POST', '/sign-in', { pin: '2468' })).toMatchObject({
      status: 200,
      body: { resident: { id: 'r-1', name: 'Rita Resident' } },
    });
    expect((await device('GET', '/state')).body['signedIn']).toMatchObject({ residentId: 'r-1' });
    for (let i = 0; i < 3; i += 1)
      expect((await device('POST', '/sign-in', { pin: '0000' })).body.error?.code).toBe(
        'pin_refused',
      );
    const locked = await device('POST', '/sign-in', { pin: '2468' });
    expect(locked).toMatchObject({ status: 429, body: { error: { code: 'pin_locked' } } });
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
  });

  it('refuses a PIN for a call that is not ringing on the device', async () => {
    expect((await device('POST', '/calls/no-such-call/pin', { pin: '2468' })).status).toBe(404);
  });
});
