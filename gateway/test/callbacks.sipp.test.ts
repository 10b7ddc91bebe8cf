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
  analyse,
  sippAvailable,
  stopAll,
  until,
  wavSeconds,
  type BaresipAgent,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallbackRecord } from '../src/callbacks/index.js';
import { startCallbacksWorld, type CallbacksWorld } from './callbacks-world.js';
import type { TestGateway } from './harness.js';
import { transactionsIn } from './sipp-log.js';

let world: CallbacksWorld;
let gw: TestGateway;
let advertiser: BaresipAgent;
let advertiserId = '';
let listingId = '';

/** Asks for a callback as the widget does; resolves with the record once it ended. */
async function callback(): Promise<{ record: CallbackRecord; phases: string[] }> {
  const { id } = await world.ask(listingId, 'now', { name: 'Ada', page: '/plumbers' });
  const { record, phases } = await world.ended(id);
  return { record, phases: phases.map((e) => e.phase) };
}

const callbackFees = () => world.fees(advertiserId);

/**
 * Reads a callback's server-sent events as a page does, until `last` arrives;
 * returns the phases in the order they came.
 */
async function phasesFromStream(url: string, last: string): Promise<string[]> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const phases: string[] = [];
  let buffered = '';
  try {
    while (!phases.includes(last)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      const frames = buffered.split('\n\n');
      buffered = frames.pop() ?? '';
      for (const frame of frames) {
        const data = frame.split('\n').find((line) => line.startsWith('data: '));
        if (data) phases.push((JSON.parse(data.slice(6)) as { phase: string }).phase);
      }
    }
  } finally {
    abort.abort();
  }
  return phases;
}

afterAll(async () => {
  await world?.close();
  await stopAll();
});

describe.skipIf(!sippAvailable())('callbacks: customer first, advertiser after "1"', () => {
  beforeAll(async () => {
    world = await startCallbacksWorld();
    ({ gw, advertiser } = world);
    ({ advertiserId, listingId } = await world.newListing());
  });

  it('"2": the advertiser is never called, the callback is declined and not charged', async () => {
    const sipp = await world.startCustomer('uas-carrier-press-2');
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
    await world.startCustomer('uas-carrier-answer');
    const invitesBefore = advertiser.receivedRequests('INVITE').length;
    const { record } = await callback();
    expect(record.outcome).toBe('no_key');
    expect(record.attempts[0]?.key).toBeNull();
    expect(advertiser.receivedRequests('INVITE').length).toBe(invitesBefore);
    expect(await callbackFees()).toEqual([]);
  });

  it('busy: tried again once, 10 s later; the advertiser is never called, the callback ends busy', async () => {
    const sipp = await world.startCustomer('uas-busy-486');
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
    expect(transactionsIn(result.messages, 'INVITE')).toHaveLength(2);
  });

  it('"1": the advertiser rings, is bridged with audio both ways, and is charged once', async () => {
    await world.startCustomer('uas-carrier-press-1');
    const invitesBefore = advertiser.receivedRequests('INVITE').length;
    const established = advertiser.waitForEvent('CALL_RTPESTAB', undefined, 30_000);
    const asked = await world.ask(listingId, 'now', { name: 'Ada', page: '/plumbers' });
    const done = world
      .ended(asked.id)
      .then(({ record, phases }) => ({ record, phases: phases.map((e) => e.phase) }));
    await established;
    // A page that opens its event stream only now still sees every step, in order.
    const late = await phasesFromStream(
      `${gw.gateway.httpUrl}/v1/callbacks/${asked.id}/events?key=${asked.key}`,
      'connected',
    );
    expect(late).toEqual(['calling', 'ringing', 'prompting', 'connecting', 'connected']);
    // Two seconds of conversation: the advertiser's tone goes to the customer and comes back.
    await until(
      () => wavSeconds(advertiser.lastRecording().received ?? '') >= 2,
      'the advertiser to record 2 s',
      30_000,
    );
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

  it('counts every attempt by outcome and times both phones ringing in /metrics', async () => {
    const text = await (await fetch(`${gw.gateway.httpUrl}/metrics`)).text();
    const sum = (pattern: RegExp): number =>
      text
        .split('\n')
        .filter((line) => pattern.test(line))
        .reduce((total, line) => total + Number(line.split(' ').pop()), 0);
    // The cases above, in order: declined, no key, busy twice (one retry), completed.
    const attempts = (outcome: string) =>
      sum(new RegExp(`^parley_callback_attempts_total\\{[^}]*outcome="${outcome}"`));
    expect(attempts('declined')).toBe(1);
    expect(attempts('no_key')).toBe(1);
    expect(attempts('busy')).toBe(2);
    expect(attempts('completed')).toBe(1);
    // Each customer phone that rang (not the busy one), and the one advertiser rung after "1".
    expect(sum(/^parley_callback_ringing_seconds_count\{leg="customer"\}/)).toBe(3);
    expect(sum(/^parley_callback_ringing_seconds_count\{leg="advertiser"\}/)).toBe(1);
  });
});
