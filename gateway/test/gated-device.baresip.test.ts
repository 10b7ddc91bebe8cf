/**
 * A plain SIP phone as a gated facility's resident device: baresip registers
 * with the device's own SIP username and secret (made by the facility's API,
 * no agent involved), the device turns registered and active, the Gate lets an
 * approved caller ring it at the contact baresip registered, and it turns
 * inactive (the Gate refuses with `device_active`) once baresip unregisters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import { PinHasher } from '../src/gated/index.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;
let phone: BaresipAgent | undefined;
const base = `/v1/gated/${TENANT}`;

beforeAll(async () => {
  gw = await startTestGateway({
    agents: [],
    tenantExtra: { gated: {} },
    // baresip 1.0 fails on a SHA-256 challenge instead of skipping it.
    sipExtra: { digestAlgorithms: ['MD5'] },
    pins: new PinHasher({ logN: 4, r: 8, p: 1 }),
  });
});

afterAll(async () => {
  await phone?.stop();
  await gw?.close();
  await stopAll();
});

describe('a SIP phone as a resident device', () => {
  it('registers with its device credential; the Gate lets an approved caller ring it at that contact', async () => {
    const created = await gw.apiRequest<{ credential: { sipUser: string; secret: string } }>(
      'PUT',
      `${base}/devices/cell-12`,
      { kind: 'sip', name: 'Cell 12 phone' },
    );
    const { sipUser, secret } = created.body.credential;
    await gw.apiRequest('PUT', `${base}/residents/r-1`, {
      name: 'Rita',
      pin: '2468',
      devices: ['cell-12'],
    });
    const account = await gw.apiRequest<{ id: string }>('POST', `${base}/accounts`, {
      name: 'Grace Hopper',
      phones: [{ number: '+14155550123', verified: true }],
    });
    await gw.apiRequest('PUT', `${base}/accounts/${account.body.id}/residents/r-1`, {
      status: 'approved',
    });
    await gw.apiRequest('POST', `${base}/accounts/${account.body.id}/credits`, {
      amount: 100,
      key: 'k',
    });

    const authorize = (callId: string) =>
      gw.gateway.gated.gate.authorize({
        callId,
        tenant: TENANT,
        channel: 'phone',
        callerNumber: '+14155550123',
      });
    expect((await authorize('before')).checks.at(-1)).toMatchObject({
      name: 'device_active',
      ok: false,
      detail: 'cell-12: not registered',
    });

    phone = await startBaresipAgent({
      user: sipUser,
      password: secret,
      registrar: gw.udp,
      transport: 'udp',
    });
    await phone.registered();
    const device = await gw.apiRequest<{ registered: boolean; active: boolean }>(
      'GET',
      `${base}/devices/cell-12`,
    );
    expect(device.body).toMatchObject({ registered: true, active: true });
    const contacts = gw.gateway.gated.gate.deviceContacts(TENANT, 'cell-12');
    expect(contacts[0]?.uri).toMatch(new RegExp(`^sip:${sipUser}`));

    const allowed = await authorize('during');
    expect(allowed).toMatchObject({
      allowed: true,
      callerName: 'Grace Hopper',
      devices: [{ address: 'cell-12', kind: 'sip', sipUser }],
    });

    // Unregistered: inactive again.
    await phone.stop();
    phone = undefined;
    await expect
      .poll(() => gw.gateway.gated.gate.deviceContacts(TENANT, 'cell-12').length, {
        timeout: 10_000,
      })
      .toBe(0);
    expect((await authorize('after')).failed).toBe('device_active');
  });

  it('refuses a REGISTER with another device secret', async () => {
    const created = await gw.apiRequest<{ credential: { sipUser: string } }>(
      'PUT',
      `${base}/devices/cell-13`,
      {
        kind: 'sip',
      },
    );
    const wrong = await startBaresipAgent({
      user: created.body.credential.sipUser,
      password: 'not-the-secret-0123456789',
      registrar: gw.udp,
      transport: 'udp',
    });
    try {
      await expect(wrong.registered(3000)).rejects.toThrow();
      expect(gw.gateway.gated.gate.deviceContacts(TENANT, 'cell-13')).toEqual([]);
    } finally {
      await wrong.stop();
    }
  });
});
