/**
 * What both gated set-up benches (gated-ring.ts: SIP visitors; gated-trunk-ring.ts:
 * phone callers through a trunk) call into: a gated facility in the tests'
 * gateway, with one resident whose SIP device is a raw UDP phone registered
 * with its device credential, and one approved account with credit; the
 * phone's 486 that ends each call; and the figures' printout.
 */
import { loadavg } from 'node:os';
import { TENANT, startTestGateway, type TestGateway } from '../../gateway/test/harness.js';
import { reply } from '../../gateway/test/raw-call.js';
import type { RawSipClient } from '../../gateway/test/raw-sip.js';
import { PinHasher } from '../../gateway/src/gated/index.js';
import type { SipRequest } from '../../gateway/src/sip/message/index.js';
import type { ConfigInput } from '../../gateway/src/config/index.js';
import { summarize } from './latency-stats.js';

const base = `/v1/gated/${TENANT}`;

/** The tests' gateway with gated on for the tenant (cheap PIN hashing, MD5 for the raw phone). */
export function startGatedGateway(config?: Partial<ConfigInput>): Promise<TestGateway> {
  return startTestGateway({
    agents: [],
    tenantExtra: { gated: {} },
    sipExtra: { digestAlgorithms: ['MD5'] },
    pins: new PinHasher({ logN: 4, r: 8, p: 1 }),
    tenantMaxCalls: 1000,
    ...(config ? { config } : {}),
  });
}

/**
 * Resident r-1 with device cell-1 (registered from `phone`), and an account
 * (`phones`: its numbers) approved for r-1 with 1,000,000 credits.
 */
export async function seedFacility(
  gw: TestGateway,
  phone: RawSipClient,
  phones: { number: string; verified: boolean }[] = [],
): Promise<{ accountNumber: string }> {
  const made = await gw.apiRequest<{ credential: { sipUser: string; secret: string } }>(
    'PUT',
    `${base}/devices/cell-1`,
    { kind: 'sip' },
  );
  const { sipUser, secret } = made.body.credential;
  await gw.apiRequest('PUT', `${base}/residents/r-1`, {
    name: 'Rita',
    pin: '2468',
    devices: ['cell-1'],
  });
  const account = await gw.apiRequest<{ id: string; number: string }>('POST', `${base}/accounts`, {
    name: 'Grace Hopper',
    phones,
  });
  await gw.apiRequest('PUT', `${base}/accounts/${account.body.id}/residents/r-1`, {
    status: 'approved',
  });
  await gw.apiRequest('POST', `${base}/accounts/${account.body.id}/credits`, {
    amount: 1_000_000,
    key: 'seed',
  });
  const reg = await phone.register(
    gw.udp,
    sipUser,
    secret,
    [`<sip:${sipUser}@127.0.0.1:${phone.port}>`],
    [],
    'MD5',
  );
  if (reg.status !== 200) throw new Error(`REGISTER answered ${reg.status}`);
  return { accountNumber: account.body.number };
}

/** The next INVITE at the device (one received after index `at` of `phone.received`). */
export async function deviceInvite(phone: RawSipClient, at: number): Promise<SipRequest> {
  return (await phone.waitFor(
    (m) =>
      m.type === 'request' &&
      m.method === 'INVITE' &&
      phone.received.findIndex((r) => r.message === m) >= at,
    10_000,
  )) as SipRequest;
}

/** The device's 486 to the gateway's INVITE, so the call ends before the next. */
export function busy(phone: RawSipClient, gw: TestGateway, request: SipRequest): void {
  reply(phone, gw, request, 486, { toTag: 'busy' });
}

/** One figure's line: p50, p90, p95, p99, max. */
export function printLatency(what: string, samples: readonly number[]): void {
  const s = summarize(samples);
  const r = (n: number) => n.toFixed(1);
  console.log(`${what} (${s.samples} calls, one at a time)`);
  console.log(
    `  p50 ${r(s.p50Ms)} ms  p90 ${r(s.p90Ms)} ms  p95 ${r(s.p95Ms)} ms  p99 ${r(s.p99Ms)} ms  max ${r(s.maxMs)} ms`,
  );
}

export function printLoad(): void {
  console.log(
    `  load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}
