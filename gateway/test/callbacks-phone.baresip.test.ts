/**
 * A listing's callback with a baresip phone as the customer (issue 13): the
 * phone sits on the carrier side of the trunk (127.0.0.2) and sends a 1 kHz
 * tone; another baresip phone is the advertiser (the listing's queue's agent,
 * 800 Hz). Keys go through the customer's control socket (`sndcode`, RFC 4733).
 * - "2", no key, no answer: the advertiser's phone never gets an INVITE and
 *   nothing is charged.
 * - "1": the advertiser rings and is bridged; each phone's recording holds
 *   the other's tone (audio both ways, waited for on the recordings); the
 *   advertiser's ledger then holds exactly one `callback_fee`, the accepted
 *   run's.
 */
import { sippAvailable, stopAll, wavSeconds, type BaresipAgent } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallbackRecord } from '../src/callbacks/index.js';
import {
  ADVERTISER_HZ,
  expectHeardTone,
  startCallbacksWorld,
  talkRecorded,
  type CallbacksWorld,
} from './callbacks-world.js';

const CUSTOMER_HZ = 1000;

let world: CallbacksWorld;
let advertiser: BaresipAgent;
let advertiserId = '';
let listingId = '';

afterAll(async () => {
  await world?.close();
  await stopAll();
});

/**
 * Asks for a callback and, once the customer's phone is prompted, presses
 * `key` on it (null: it only listens); `ended` resolves with the record.
 */
async function askPressing(
  phone: BaresipAgent,
  key: string | null,
): Promise<{ id: string; ended: Promise<CallbackRecord> }> {
  const { id } = await world.ask(listingId, 'now', { name: 'Ada', page: '/plumbers' });
  const ended = world.ended(id).then((e) => e.record);
  await world.reached(id, 'prompting');
  if (key !== null) {
    const sent = await phone.command('sndcode', key);
    expect(sent.ok, JSON.stringify(sent)).toBe(true);
  }
  return { id, ended };
}

describe.skipIf(!sippAvailable())('callbacks: a baresip phone as the customer', () => {
  beforeAll(async () => {
    world = await startCallbacksWorld({ retries: { maxAttempts: 1 } });
    ({ advertiser } = world);
    ({ advertiserId, listingId } = await world.newListing());
  });

  it('"2": declined, the advertiser never rings, nothing charged', async () => {
    const phone = await world.startPhone({ toneHz: CUSTOMER_HZ });
    const record = await (await askPressing(phone, '2')).ended;
    expect(record.outcome).toBe('declined');
    expect(record.attempts[0]).toMatchObject({ key: '2', keySource: 'rfc4733', advertiser: [] });
    expect(record.chargedAt).toBeNull();
    expect(advertiser.receivedRequests('INVITE')).toHaveLength(0);
    expect(await world.fees(advertiserId)).toEqual([]);
  });

  it('no key: no_key, the advertiser never rings, nothing charged', async () => {
    const phone = await world.startPhone({ toneHz: CUSTOMER_HZ });
    const record = await (await askPressing(phone, null)).ended;
    expect(record.outcome).toBe('no_key');
    expect(record.attempts[0]?.key).toBeNull();
    expect(advertiser.receivedRequests('INVITE')).toHaveLength(0);
    expect(await world.fees(advertiserId)).toEqual([]);
  });

  it('no answer: the ringing phone gets a CANCEL, the advertiser never rings, nothing charged', async () => {
    const phone = await world.startPhone({ toneHz: CUSTOMER_HZ, answerMode: 'manual' });
    const { id } = await world.ask(listingId, 'now');
    const { record, phases } = await world.ended(id);
    expect(record.outcome).toBe('no_answer');
    expect(phases.map((e) => e.phase)).not.toContain('prompting');
    expect(phone.receivedRequests('INVITE')).toHaveLength(1);
    expect(phone.receivedRequests('CANCEL')).toHaveLength(1);
    expect(advertiser.receivedRequests('INVITE')).toHaveLength(0);
    expect(await world.fees(advertiserId)).toEqual([]);
  });

  it('"1": bridged to the advertiser, each phone hears the other, one fee', async () => {
    const phone = await world.startPhone({ toneHz: CUSTOMER_HZ });
    const { id, ended } = await askPressing(phone, '1');
    await world.reached(id, 'connected');
    await talkRecorded(phone, advertiser, wavSeconds(phone.lastRecording().received ?? ''));
    const closed = {
      phone: phone.waitForEvent('CALL_CLOSED', undefined, 20_000),
      advertiser: advertiser.waitForEvent('CALL_CLOSED', undefined, 20_000),
    };
    await phone.hangup();
    await Promise.all([closed.phone, closed.advertiser]);
    const record = await ended;
    expect(record.outcome, JSON.stringify(record.attempts)).toBe('completed');
    expect(record.attempts[0]?.key).toBe('1');
    expect(advertiser.receivedRequests('INVITE')).toHaveLength(1);
    // Audio both ways: the customer heard the advertiser's tone, the advertiser the customer's.
    await expectHeardTone(phone, ADVERTISER_HZ);
    await expectHeardTone(advertiser, CUSTOMER_HZ);
    // One charge, this run's: the declined, unkeyed and unanswered runs above added none.
    expect(record.chargeKey).toBe(`callback:${record.id}`);
    const fees = await world.fees(advertiserId);
    expect(fees).toHaveLength(1);
    expect(fees[0]?.postings.map((p) => p.amountCents).sort((x, y) => x - y)).toEqual([-300, 300]);
  });
});
