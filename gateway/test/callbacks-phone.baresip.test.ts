/**
 * A listing's callback with a baresip phone as the customer (issue 13): the
 * phone sits on the carrier side of the trunk (127.0.0.2) and sends a 1 kHz
 * tone; another baresip phone is the advertiser (the listing's queue's agent,
 * 800 Hz). Keys go through the customer's control socket (`sndcode`, RFC 4733).
 * - "2", no key, no answer: the advertiser's phone never gets an INVITE and
 *   nothing is charged.
 * - "1", once the phone recorded the whole acceptance prompt (whose words
 *   pocketsphinx finds there): the advertiser rings and is bridged; each
 *   phone's recording holds the other's tone (audio both ways, waited for on
 *   the recordings); the advertiser's ledger then holds exactly one
 *   `callback_fee`, the accepted run's.
 * - "1" for an advertiser whose credit was withdrawn while the callback
 *   waited: the phone hears the apology, the advertiser is never called,
 *   nothing is charged (`advertiser_cannot_pay`).
 */
import { sippAvailable, stopAll, until, wavSeconds, type BaresipAgent } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallbackRecord } from '../src/callbacks/index.js';
import { APOLOGY, expectSaid, gatewayReading, promptText } from './callbacks-speech.js';
import {
  ADVERTISER_HZ,
  expectHeardTone,
  startCallbacksWorld,
  talkRecorded,
  type CallbacksWorld,
} from './callbacks-world.js';

const CUSTOMER_HZ = 1000;
/** The acceptance prompt for the world's listings (their advertiser is "Bob the Plumber"). */
const PROMPT = promptText('Bob the Plumber');

let world: CallbacksWorld;
let advertiser: BaresipAgent;
let advertiserId = '';
let listingId = '';

afterAll(async () => {
  await world?.close();
  await stopAll();
});

/** Where the prompt starts and where the key was pressed in the customer's recording, seconds. */
interface Keyed {
  readonly promptFrom: number;
  readonly keyAt: number;
}

/**
 * Once callback `id` prompts the customer's phone, presses `key` on it (null:
 * it only listens); `heard: true` first waits until its recording holds the
 * whole prompt: its length as the gateway says it (measured 5.66 s recorded
 * of flite's 5.75: the phone records only the packets that come, and none
 * come after the prompt). The key may come for 10 s more: with a typecheck
 * running beside it the phone's recording reached the prompt's end more than
 * 2 s after the gateway had played it (2 runs of 6 ended `no_key`).
 */
async function pressAfterPrompt(
  phone: BaresipAgent,
  id: string,
  key: string | null,
  heard = false,
): Promise<Keyed> {
  await world.reached(id, 'prompting');
  const recorded = () => wavSeconds(phone.lastRecording().received ?? '');
  const promptFrom = recorded();
  if (heard) {
    const { seconds } = await gatewayReading(world.gw, PROMPT);
    await until(
      () => recorded() >= promptFrom + seconds - 0.3,
      'the whole prompt recorded',
      20_000,
    );
    // Its last words too: the recording stops growing when the prompt ends (no packet
    // comes after it), not cut by a key pressed while they still play.
    let last = -1;
    let still = 0;
    await until(
      () => {
        const now = recorded();
        still = now === last ? still + 1 : 0;
        last = now;
        return still >= 6;
      },
      'the prompt ended',
      5_000,
    );
  }
  const keyAt = recorded();
  if (key !== null) {
    const sent = await phone.command('sndcode', key);
    expect(sent.ok, JSON.stringify(sent)).toBe(true);
  }
  return { promptFrom, keyAt };
}

/** Asks for a callback now and presses `key` as `pressAfterPrompt` does; `ended` resolves with the record. */
async function askPressing(
  phone: BaresipAgent,
  key: string | null,
  heard = false,
): Promise<{ id: string; ended: Promise<CallbackRecord>; keyed: Keyed }> {
  const { id } = await world.ask(listingId, 'now', { name: 'Ada', page: '/plumbers' });
  const ended = world.ended(id).then((e) => e.record);
  return { id, ended, keyed: await pressAfterPrompt(phone, id, key, heard) };
}

describe.skipIf(!sippAvailable())('callbacks: a baresip phone as the customer', () => {
  beforeAll(async () => {
    world = await startCallbacksWorld({
      retries: { maxAttempts: 1 },
      // The key comes once the phone recorded the whole prompt, which lags the gateway by
      // seconds on a loaded machine: room for it (the no-key case waits this long).
      prompt: { repeat: 1, keyTimeoutSeconds: 10 },
      rateLimit: { perNumber: { max: 100 } },
    });
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
    const { id, ended, keyed } = await askPressing(phone, '1', true);
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
    // Before the key, the phone heard the prompt (the advertiser's name is not
    // checked: pocketsphinx reads "Bob the Plumber" as "on diplomatic ali").
    await expectSaid(world.gw, phone.lastRecording().received!, PROMPT, {
      from: keyed.promptFrom,
      to: keyed.keyAt,
    });
    // Audio both ways: the customer heard the advertiser's tone, the advertiser the customer's.
    await expectHeardTone(phone, ADVERTISER_HZ);
    await expectHeardTone(advertiser, CUSTOMER_HZ);
    // One charge, this run's: the declined, unkeyed and unanswered runs above added none.
    expect(record.chargeKey).toBe(`callback:${record.id}`);
    const fees = await world.fees(advertiserId);
    expect(fees).toHaveLength(1);
    expect(fees[0]?.postings.map((p) => p.amountCents).sort((x, y) => x - y)).toEqual([-300, 300]);
  });

  it('"1" for an advertiser who can no longer pay: an apology, the advertiser never rings', async () => {
    // Credit enough when asked; withdrawn while the callback waits for a free agent.
    const poor = await world.newListing({ billing: 'credit', creditLimitCents: 1000 });
    const phone = await world.startPhone({ toneHz: CUSTOMER_HZ });
    const invitesBefore = advertiser.receivedRequests('INVITE').length;
    const { gw } = world;
    gw.gateway.agents.setAvailability('agent1', 'away');
    const { id } = await world.ask(poor.listingId, 'agent-free');
    const ended = world.ended(id);
    const patched = await gw.apiRequest('PATCH', `/v1/advertisers/${poor.advertiserId}`, {
      creditLimitCents: 0,
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const closed = phone.waitForEvent('CALL_CLOSED', undefined, 30_000);
    gw.gateway.agents.setAvailability('agent1', 'available');
    const keyed = await pressAfterPrompt(phone, id, '1', true);
    const { record } = await ended;
    await closed;
    expect(record.outcome).toBe('advertiser_cannot_pay');
    expect(record.code).toBe('callback_cannot_pay');
    expect(record.attempts[0]).toMatchObject({ key: '1', keySource: 'rfc4733', advertiser: [] });
    // What the phone heard after its key, until the gateway hung up: the apology.
    await expectSaid(world.gw, phone.lastRecording().received!, APOLOGY, { from: keyed.keyAt });
    expect(advertiser.receivedRequests('INVITE')).toHaveLength(invitesBefore);
    expect(record.chargedAt).toBeNull();
    expect(await world.fees(poor.advertiserId)).toEqual([]);
  });
});
