/**
 * What the two-gateway gated tests make through one gateway's admin API
 * before a call: a SIP device (`cell-19`), its resident Rosa (PIN 1593, the
 * one sipp keys) and Ada's approved account with 500 in credit.
 */
import { TENANT, type TestGateway } from '../harness.js';

export interface SeededResident {
  /** The device's SIP credential, to register a phone with. */
  readonly phone: { readonly sipUser: string; readonly secret: string };
  /** Ada's account: its id and the number a visitor's token claims. */
  readonly account: { readonly id: string; readonly number: string };
}

export async function seedGatedResident(gw: TestGateway): Promise<SeededResident> {
  const base = `/v1/gated/${TENANT}`;
  const made = await gw.apiRequest<{ credential: { sipUser: string; secret: string } }>(
    'PUT',
    `${base}/devices/cell-19`,
    { kind: 'sip' },
  );
  await gw.apiRequest('PUT', `${base}/residents/r-9`, {
    name: 'Rosa',
    pin: '1593',
    devices: ['cell-19'],
  });
  const account = await gw.apiRequest<{ id: string; number: string }>('POST', `${base}/accounts`, {
    name: 'Ada Lovelace',
    ratePerMinute: 10,
  });
  await gw.apiRequest('PUT', `${base}/accounts/${account.body.id}/residents/r-9`, {
    status: 'approved',
  });
  await gw.apiRequest('POST', `${base}/accounts/${account.body.id}/credits`, {
    amount: 500,
    key: 'seed-ada',
  });
  return { phone: made.body.credential, account: account.body };
}
