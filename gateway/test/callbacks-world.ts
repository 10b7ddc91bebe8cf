/**
 * The world of the listing callback tests on real peers
 * (`callbacks.sipp.test.ts`, `callbacks-cases.sipp.test.ts`,
 * `callbacks-phone.baresip.test.ts`, and in Chromium
 * `e2e/tests/callback.e2e.test.ts`): a gateway whose
 * trunk goes to the carrier side (127.0.0.2), where a sipp scenario or a
 * baresip phone is the customer's phone; a baresip phone is the advertiser
 * (the `sales` queue's agent at a fixed contact, 800 Hz); listings charge
 * their bid per callback.
 */
import {
  PortAllocator,
  analyseTail,
  bundledScenario,
  startBaresipAgent,
  startSipp,
  until,
  wavSeconds,
  type BaresipAgent,
  type BundledScenarioName,
  type PortBlock,
  type SippInstance,
  type SippResult,
} from '@parley/testkit';
import type { CallbackEvent } from '@parley/shared/protocol';
import { expect } from 'vitest';
import type { CallbackRecord } from '../src/callbacks/index.js';
import { CARRIER, carrierTrunk, type TrunkInput } from './carrier.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';

export const CUSTOMER = '+14155550123';
/** The advertiser's phone's tone. */
export const ADVERTISER_HZ = 800;
/** Where a listing's callback goes unless a test says otherwise. */
export const SALES = { kind: 'queue', queue: 'sales' } as const;

export interface CallbacksWorld {
  readonly gw: TestGateway;
  readonly advertiser: BaresipAgent;
  /**
   * Stops the customer's last scenario and starts `scenario` on the carrier's
   * port (`callDurationMs`: sipp's -d, the pause of a scenario that has one).
   */
  startCustomer(
    scenario: BundledScenarioName,
    options?: { callDurationMs?: number },
  ): Promise<SippInstance>;
  /** Stops the customer's scenario (its messages in the result); undefined when none runs. */
  stopCustomer(): Promise<SippResult | undefined>;
  /**
   * Stops the customer's phone (a scenario or the last baresip one) and starts
   * a baresip phone on the carrier's port instead: it keys through its control
   * socket (`sndcode`) and records what it hears.
   */
  startPhone(options?: { toneHz?: number; answerMode?: 'auto' | 'manual' }): Promise<BaresipAgent>;
  /** Resolves with the event once callback `id` reaches `phase`; rejects if it ends first. */
  reached(id: string, phase: CallbackEvent['phase']): Promise<CallbackEvent>;
  /** An advertiser (10 000 cents by default) and its listing (bid 300) to `destination`. */
  newListing(
    money?: Record<string, unknown>,
    destination?: Record<string, string>,
  ): Promise<{ advertiserId: string; listingId: string }>;
  /** Asks for a callback as the widget does: the id and the requester's key. */
  ask(
    listingId: string,
    when: string,
    extra?: { name?: string; page?: string },
  ): Promise<{ id: string; key: string }>;
  /** Resolves with the record and the events seen once callback `id` ended. */
  ended(id: string): Promise<{ record: CallbackRecord; phases: CallbackEvent[] }>;
  /** The advertiser's `callback_fee` transactions in its ledger. */
  fees(advertiserId: string): Promise<{ postings: { amountCents: number }[] }[]>;
  close(): Promise<void>;
}

const ports = new PortAllocator();

/**
 * Waits until the customer's phone and the advertiser's both recorded
 * `seconds` of their talk. The customer's recording also holds the prompt and
 * the ringback: `customerFrom` is its length when the callback was connected.
 */
export async function talkRecorded(
  customer: BaresipAgent,
  advertiser: BaresipAgent,
  customerFrom: number,
  seconds = 3,
): Promise<void> {
  await until(
    () =>
      wavSeconds(customer.lastRecording().received ?? '') >= customerFrom + seconds &&
      wavSeconds(advertiser.lastRecording().received ?? '') >= seconds,
    `${seconds} s of the talk recorded by both phones`,
    30_000,
  );
}

/** Expects the last two seconds `phone` heard in its last call to be a tone of `hz` (±10 %). */
export async function expectHeardTone(phone: BaresipAgent, hz: number): Promise<void> {
  const { received } = phone.lastRecording();
  expect(received, `${phone.user} recorded nothing`).toBeDefined();
  const heard = await analyseTail(received!, 2);
  const what = `${phone.user}: ${hz} Hz in ${JSON.stringify(heard)}`;
  expect(heard.rms, what).toBeGreaterThan(0.05);
  expect(heard.roughFrequencyHz, what).toBeGreaterThan(hz * 0.9);
  expect(heard.roughFrequencyHz, what).toBeLessThan(hz * 1.1);
}

/**
 * `callbacksExtra` is merged into the gateway's `callbacks` settings;
 * `trunks` are added beside the customer's `carrier` (an advertiser's number).
 */
export async function startCallbacksWorld(
  callbacksExtra: Record<string, unknown> = {},
  trunks: Record<string, TrunkInput> = {},
): Promise<CallbacksWorld> {
  const held: PortBlock[] = [];
  let gw: TestGateway | undefined;
  let advertiser: BaresipAgent | undefined;
  let customer: SippInstance | undefined;
  let phone: BaresipAgent | undefined;
  async function stopPhones(): Promise<void> {
    await customer?.stop();
    customer = undefined;
    await phone?.stop();
    phone = undefined;
  }
  async function close(): Promise<void> {
    await stopPhones();
    await advertiser?.stop();
    await gw?.close();
    for (const block of held.splice(0)) block.release();
  }
  try {
    // Two ports, UDP and TCP: a baresip customer also listens on TCP there and on TLS one above.
    const block = await ports.allocate(2, { even: false });
    held.push(block);
    const carrierPort = block.base;
    advertiser = await startBaresipAgent({ user: 'advertiser', toneHz: ADVERTISER_HZ });
    gw = await startTestGateway({
      agents: [{ id: 'agent1', contact: advertiser.uri }],
      config: {
        // The listings' static numbers must be the trunk's inbound numbers (each listing its own).
        flows: { 'not-in-service': [{ verb: 'hangup', reason: 'rejected' }] },
        trunks: {
          carrier: {
            ...carrierTrunk({ port: carrierPort }),
            inbound: {
              numbers: [
                {
                  from: '+14155550190',
                  to: '+14155550199',
                  tenant: TENANT,
                  flow: 'not-in-service',
                },
              ],
            },
          },
          ...trunks,
        },
        marketplace: { reserveCents: 100, tenants: { [TENANT]: {} } },
        callbacks: {
          trunk: 'carrier',
          listings: { enabled: true, feeCents: 'bid', callerNumber: '+14155550188' },
          prompt: { repeat: 1, keyTimeoutSeconds: 2 },
          ringTimeoutSeconds: 5,
          retries: { maxAttempts: 2, busyDelaySeconds: 10, noAnswerDelaySeconds: 10 },
          ...callbacksExtra,
        },
      },
    });
    const api = gw;
    // The first listing shows +14155550199 (the callbacks' caller ID), the next ones 198, 197…
    let staticNumbers = 199;
    return {
      gw,
      advertiser,
      async startCustomer(scenario, options = {}) {
        await stopPhones();
        customer = await startSipp({
          ...options,
          scenario: await bundledScenario(scenario),
          address: CARRIER,
          localPort: carrierPort,
          rtpEcho: true,
          traceMessages: true,
          name: `customer-${scenario}`,
        });
        return customer;
      },
      async stopCustomer() {
        const running = customer;
        customer = undefined;
        return running?.stop();
      },
      async startPhone(options = {}) {
        await stopPhones();
        phone = await startBaresipAgent({
          user: CUSTOMER,
          address: CARRIER,
          listenPort: carrierPort,
          name: 'customer',
          ...options,
        });
        return phone;
      },
      async reached(id, phase) {
        const e = await api.gateway.callbacks.service.watchUntil(
          id,
          (e) => e.phase === phase || e.phase === 'ended',
        );
        if (e.phase !== phase)
          throw new Error(`callback ${id} ended (${e.outcome}) before ${phase}`);
        return e;
      },
      async newListing(money = { initialBalanceCents: 10_000 }, destination = SALES) {
        const a = await api.apiRequest<{ id: string }>('POST', '/v1/advertisers', {
          tenant: TENANT,
          name: 'Bob the Plumber',
          ...money,
        });
        expect(a.status, JSON.stringify(a.body)).toBe(201);
        const l = await api.apiRequest<{ id: string }>('POST', '/v1/listings', {
          advertiserId: a.body.id,
          title: 'Plumber',
          category: 'plumbing',
          region: 'US',
          destination,
          bidCents: 300,
          dailyBudgetCents: 100_000,
          qualification: { minConnectedSeconds: 0 },
          staticNumber: `+14155550${staticNumbers--}`,
        });
        expect(l.status, JSON.stringify(l.body)).toBe(201);
        return { advertiserId: a.body.id, listingId: l.body.id };
      },
      async ask(listingId, when, extra = {}) {
        const token = await api.token({
          scope: `callback:listing.${listingId}`,
          privateClaims: {
            callback: { phone: CUSTOMER, when },
            ...(extra.name ? { name: extra.name } : {}),
          },
        });
        const res = await fetch(`${api.gateway.httpUrl}/v1/callbacks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            token,
            destination: `listing.${listingId}`,
            ...(extra.page ? { page: extra.page } : {}),
          }),
        });
        const body = (await res.json()) as { id: string; key: string };
        expect(res.status, JSON.stringify(body)).toBe(201);
        return body;
      },
      async ended(id) {
        const service = api.gateway.callbacks.service;
        const phases: CallbackEvent[] = [];
        await service.watchUntil(id, (e) => {
          phases.push(e);
          return e.phase === 'ended';
        });
        const record = await service.get(id);
        if (!record) throw new Error(`callback ${id} ended without a record`);
        return { record, phases };
      },
      async fees(advertiserId) {
        const { body } = await api.api<{
          transactions: { kind: string; postings: { account: string; amountCents: number }[] }[];
        }>(`/v1/advertisers/${advertiserId}/ledger`);
        return body.transactions.filter((t) => t.kind === 'callback_fee');
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
