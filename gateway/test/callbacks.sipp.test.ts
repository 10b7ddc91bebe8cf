/**
 * Callbacks on real peers (S5): a request through `POST /v1/callbacks` with a
 * `callback:listing.<id>` token makes the gateway call the customer through a
 * trunk; sipp on the carrier side (127.0.0.2) is the customer's phone; a
 * baresip phone is the advertiser (the queue's agent, at a fixed contact).
 * - "1" (RFC 4733, sipp's pcap): the advertiser rings, is bridged, and hears
 *   its own tone come back through the customer's echo (audio both ways);
 *   the advertiser's ledger holds exactly one callback fee.
 * - "2", no key, busy: the advertiser's phone never gets an INVITE, the
 *   record says declined / no_key / busy, and nothing is charged.
 */
import {
  PortAllocator,
  analyse,
  bundledScenario,
  sippAvailable,
  startBaresipAgent,
  startSipp,
  stopAll,
  wavSeconds,
  type BaresipAgent,
  type BundledScenarioName,
  type PortBlock,
  type SippInstance,
} from '@parley/testkit';
import type { CallbackEvent } from '@parley/shared/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallbackRecord } from '../src/callbacks/index.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';
import { requestsIn } from './sipp-log.js';

const CARRIER = '127.0.0.2';
const CUSTOMER = '+14155550123';
const ports = new PortAllocator();
const held: PortBlock[] = [];
let carrierPort = 0;
let customer: SippInstance | undefined;
let advertiser: BaresipAgent;
let gw: TestGateway;
let advertiserId = '';
let listingId = '';

async function startCustomer(scenario: BundledScenarioName): Promise<SippInstance> {
  await customer?.stop();
  customer = await startSipp({
    scenario: await bundledScenario(scenario),
    address: CARRIER,
    localPort: carrierPort,
    rtpEcho: true,
    traceMessages: true,
    name: `customer-${scenario}`,
  });
  return customer;
}

/** Asks for a callback as the widget does; resolves with the record once it ended. */
async function callback(): Promise<{ record: CallbackRecord; phases: string[] }> {
  const token = await gw.token({
    scope: `callback:listing.${listingId}`,
    privateClaims: { callback: { phone: CUSTOMER, when: 'now' }, name: 'Ada' },
  });
  const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, destination: `listing.${listingId}`, page: '/plumbers' }),
  });
  const body = (await res.json()) as { id: string; key: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  const phases: string[] = [];
  await new Promise<void>((resolve) => {
    const stop = gw.gateway.callbacks.service.watch(body.id, (e: CallbackEvent) => {
      phases.push(e.phase);
      if (e.phase === 'ended') {
        queueMicrotask(() => stop());
        resolve();
      }
    });
  });
  const record = gw.gateway.callbacks.service.get(body.id);
  if (!record) throw new Error('no record');
  return { record, phases };
}

async function callbackFees(): Promise<{ kind: string; postings: { amountCents: number }[] }[]> {
  const { body } = await gw.api<{
    transactions: { kind: string; postings: { account: string; amountCents: number }[] }[];
  }>(`/v1/advertisers/${advertiserId}/ledger`);
  return body.transactions.filter((t) => t.kind === 'callback_fee');
}

afterAll(async () => {
  await customer?.stop();
  await advertiser?.stop();
  await gw?.close();
  for (const block of held.splice(0)) block.release();
  await stopAll();
});

describe.skipIf(!sippAvailable())('callbacks: customer first, advertiser after "1"', () => {
  beforeAll(async () => {
    const block = await ports.allocate(1, { protocols: ['udp'] });
    held.push(block);
    carrierPort = block.base;
    advertiser = await startBaresipAgent({ user: 'advertiser', toneHz: 800 });
    gw = await startTestGateway({
      agents: [{ id: 'agent1', contact: advertiser.uri }],
      config: {
        trunks: {
          carrier: {
            keepAlive: { intervalSeconds: 0 },
            defaultCountry: 'US',
            peers: [{ host: CARRIER, port: carrierPort }],
          },
        },
        marketplace: { reserveCents: 100, tenants: { [TENANT]: {} } },
        callbacks: {
          trunk: 'carrier',
          listings: { enabled: true, feeCents: 'bid', callerNumber: '+14155550188' },
          prompt: { repeat: 1, keyTimeoutSeconds: 2 },
          ringTimeoutSeconds: 5,
          retries: { maxAttempts: 2, busyDelaySeconds: 10, noAnswerDelaySeconds: 10 },
        },
      },
    });
    const a = await gw.apiRequest<{ id: string }>('POST', '/v1/advertisers', {
      tenant: TENANT,
      name: 'Bob the Plumber',
      initialBalanceCents: 10_000,
    });
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    advertiserId = a.body.id;
    const l = await gw.apiRequest<{ id: string }>('POST', '/v1/listings', {
      advertiserId,
      title: 'Plumber',
      category: 'plumbing',
      region: 'US',
      destination: { kind: 'queue', queue: 'sales' },
      bidCents: 300,
      dailyBudgetCents: 100_000,
      qualification: { minConnectedSeconds: 0 },
      staticNumber: '+14155550199',
    });
    expect(l.status, JSON.stringify(l.body)).toBe(201);
    listingId = l.body.id;
  });

  it('"2": the advertiser is never called, the callback is declined and not charged', async () => {
    const sipp = await startCustomer('uas-carrier-press-2');
    const invitesBefore = advertiser.receivedRequests('INVITE').length;
    const { record, phases } = await callback();
    expect(record.outcome).toBe('declined');
    expect(record.attempts[0]?.key).toBe('2');
    expect(record.attempts[0]?.keySource).toBe('rfc4733');
    expect(record.attempts[0]?.advertiser).toEqual([]);
    expect(phases).toContain('prompting');
    expect(phases).not.toContain('connecting');
    expect(advertiser.receivedRequests('INVITE').length).toBe(invitesBefore);
    expect(record.chargedAt).toBeNull();
    expect(await callbackFees()).toEqual([]);
    // The customer's phone saw the caller ID of the listing and the gateway's BYE.
    const result = await sipp.stop();
    expect(result.messages).toMatch(/From: "?[^\n]*<sip:\+14155550199@/);
  });

  it('no key: the advertiser is never called, the callback ends no_key', async () => {
    await startCustomer('uas-carrier-answer');
    const invitesBefore = advertiser.receivedRequests('INVITE').length;
    const { record } = await callback();
    expect(record.outcome).toBe('no_key');
    expect(record.attempts[0]?.key).toBeNull();
    expect(advertiser.receivedRequests('INVITE').length).toBe(invitesBefore);
    expect(await callbackFees()).toEqual([]);
  });

  it('busy: tried again once, 10 s later; the advertiser is never called, the callback ends busy', async () => {
    const sipp = await startCustomer('uas-busy-486');
    const invitesBefore = advertiser.receivedRequests('INVITE').length;
    const { record, phases } = await callback();
    expect(record.outcome).toBe('busy');
    // maxAttempts 2: one retry, no more, after busyDelaySeconds.
    expect(record.attempts).toHaveLength(2);
    expect(record.attempts.map((a) => a.customer.status)).toEqual([486, 486]);
    const [first, second] = record.attempts;
    expect(second!.startedAt - first!.customer.endedAt!).toBeGreaterThanOrEqual(10_000);
    // The page was told of the retry: scheduled again after the first call.
    expect(phases.lastIndexOf('scheduled')).toBeGreaterThan(phases.indexOf('calling'));
    expect(advertiser.receivedRequests('INVITE').length).toBe(invitesBefore);
    expect(await callbackFees()).toEqual([]);
    const result = await sipp.stop();
    expect(requestsIn(result.messages, 'INVITE')).toHaveLength(2);
  });

  it('"1": the advertiser rings, is bridged with audio both ways, and is charged once', async () => {
    await startCustomer('uas-carrier-press-1');
    const invitesBefore = advertiser.receivedRequests('INVITE').length;
    const established = advertiser.waitForEvent('CALL_RTPESTAB', undefined, 30_000);
    const done = callback();
    await established;
    // Two seconds of conversation: the advertiser's tone goes to the customer and comes back.
    const deadline = Date.now() + 30_000;
    while (wavSeconds(advertiser.lastRecording().received ?? '') < 2) {
      if (Date.now() > deadline) throw new Error('the advertiser recorded less than 2 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await advertiser.hangup();
    const { record, phases } = await done;
    expect(record.outcome, JSON.stringify(record.attempts)).toBe('completed');
    expect(phases).toEqual(
      expect.arrayContaining(['calling', 'ringing', 'prompting', 'connecting', 'connected']),
    );
    expect(record.attempts[0]?.key).toBe('1');
    expect(advertiser.receivedRequests('INVITE').length).toBe(invitesBefore + 1);
    expect(record.connectedAt).not.toBeNull();
    expect(record.chargeKey).toBe(`callback:${record.id}`);
    const fees = await callbackFees();
    expect(fees).toHaveLength(1);
    expect(fees[0]?.postings.map((p) => p.amountCents).sort((x, y) => x - y)).toEqual([-300, 300]);
    const { received } = advertiser.lastRecording();
    const heard = await analyse(received!);
    expect(heard.roughFrequencyHz).toBeGreaterThan(700);
    expect(heard.roughFrequencyHz).toBeLessThan(900);
    // Listed with its outcome through the API.
    const listed = await gw.api<{ callbacks: { id: string; outcome: string }[] }>('/v1/callbacks');
    expect(listed.body.callbacks.find((c) => c.id === record.id)?.outcome).toBe('completed');
  });
});
