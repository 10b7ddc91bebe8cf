/**
 * A gated DID runs its flow (docs/gated.md, "Phone callers on a DID";
 * docs/flows.md, `gate`): the facility's line greets the caller (`say`),
 * then the `gate` verb hands the call to the gated path. A baresip phone on
 * the carrier's side (127.0.0.2, on the trunk's access list) calls the DID
 * and records what it hears; pocketsphinx finds the words.
 *
 * - the resident's phone is not registered (not active): the caller hears
 *   the greeting, then the not-available prompt, in that order; the flow's
 *   events say the greeting was over before the gate started, the gate's
 *   result is `refused` (no check named), and the Gate's decision
 *   (`device_active`) was taken after the greeting;
 * - the phone registered (sipp: it keys the resident's PIN): the caller
 *   hears the greeting and is connected (the meter runs, the record is
 *   answered); the flow's `gate` result is `connected` once the call ends.
 *   (Audio both ways through the gate: `gated-trunk-prompts.baresip.test.ts`.)
 * - a second line whose greeting a key interrupts: a caller on no account
 *   (sipp as the carrier, RFC 4733) keys the account number and PIN during
 *   the greeting; the gate reads them as typed ahead (as a `gather` after the
 *   greeting would), asks nothing, and connects.
 */
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlowEvent } from '@parley/shared/protocol';
import {
  sippAvailable,
  startBaresipAgent,
  startSipp,
  stopAll,
  transcribe,
  wordsFound,
  type BaresipAgent,
} from '@parley/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Call } from '../src/calls/index.js';
import { CARRIER } from './carrier.js';
import { carrierScenario } from './gated-carrier.js';
import type { TestGateway } from './harness.js';
import { GATED, approvedAccount, startGatedFacility } from './gated-facility.js';
import { RawSipClient } from './raw-sip.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const DID = '+14155550179';
const GREETING = 'Welcome to the family visiting line.';
const GREETING_WORDS = 'welcome to the family visiting line';
const NOT_AVAILABLE = 'the person you are calling is not available goodbye';
/** A line whose greeting a key interrupts (type-ahead into the gate). */
const TYPE_AHEAD_DID = '+14155550173';

let gw: TestGateway;
let client: RawSipClient;
let work: string;
let device: { sipUser: string; secret: string };
const phones: BaresipAgent[] = [];
const calls: Call[] = [];

async function account(name: string, number: string, credit: number): Promise<string> {
  const made = await approvedAccount(
    gw,
    name,
    { name, phones: [{ number, verified: true }] },
    credit,
  );
  return made.id;
}

/** A carrier-side phone calls the DID from `user`; resolves with its call once established. */
async function dialDid(
  user: string,
  source?: string,
): Promise<{ phone: BaresipAgent; since: number; call: Call }> {
  const phone = await startBaresipAgent({
    user,
    address: CARRIER,
    codecs: ['PCMU'],
    ...(source ? { audioSource: source } : {}),
  });
  phones.push(phone);
  const before = calls.length;
  const since = phone.mark();
  await phone.dial(`sip:${DID}@${gw.udp}`);
  await phone.waitForEvent('CALL_ESTABLISHED', undefined, 20_000, { since });
  await expect.poll(() => calls.length, { timeout: 10_000 }).toBeGreaterThan(before);
  return { phone, since, call: calls.at(-1)! };
}

/** What the phone heard, once the gateway hung up. */
async function heardBy(phone: BaresipAgent, since: number, name: string): Promise<string> {
  await phone.waitForEvent('CALL_CLOSED', undefined, 150_000, { since });
  const heard = join(work, `${name}.wav`);
  await copyFile(phone.lastRecording().received!, heard);
  return heard;
}

/** The flow's events of `call`: when each verb started and gave its result. */
async function verbEvents(
  call: Call,
): Promise<{ type: string; verb: string; at: number; status?: string }[]> {
  return (await gw.gateway.telephony.events.list(call.id))
    .filter(
      (e): e is Extract<FlowEvent, { type: 'verb.start' | 'verb.result' }> =>
        e.type === 'verb.start' || e.type === 'verb.result',
    )
    .map((e) => ({
      type: e.type,
      verb: e.verb,
      at: Date.parse(e.at),
      ...(e.type === 'verb.result' ? { status: e.result.status } : {}),
    }));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'parley-gated-flow-'));
  ({ gw, device } = await startGatedFacility(
    DID,
    { pin: { delayMs: 0 } },
    [{ verb: 'say', text: GREETING }, { verb: 'gate' }],
    {
      [TYPE_AHEAD_DID]: [{ verb: 'say', text: GREETING, interruptible: true }, { verb: 'gate' }],
    },
  ));
  gw.gateway.calls.onCall((c) => calls.push(c));
  client = await RawSipClient.open();
});
afterAll(async () => {
  for (const phone of phones) await phone.stop();
  client?.close();
  await gw?.close();
  await stopAll();
});

it(
  'greets the caller before the gate: the greeting, then the not-available prompt (device not active)',
  {
    timeout: 120_000,
  },
  async () => {
    await account('Early Caller', '+14155550131', 500);
    const { phone, since, call } = await dialDid('4155550131');
    const heard = await heardBy(phone, since, 'greeting-refused');
    await gw.callsEnded(10_000);
    const words = await transcribe(heard, { narrowband: true });
    // Both prompts' words, the greeting's first (a narrowband word may be misheard).
    expect(wordsFound(GREETING_WORDS, words), words).toBeGreaterThanOrEqual(4);
    // "not available" is the proof; pocketsphinx reads the rest of this flite
    // sentence differently by CPU (here "the person you are calling" came out as
    // "hurt the lack ali" also on a quiet machine), so three of its words will do.
    expect(wordsFound(NOT_AVAILABLE, words), words).toBeGreaterThanOrEqual(3);
    expect(words).toMatch(/not available/);
    expect(words.indexOf('visiting'), words).toBeGreaterThanOrEqual(0);
    expect(words.indexOf('visiting')).toBeLessThan(words.indexOf('not available'));

    // The flow: the greeting was over before the gate started; the gate refused, naming no check.
    const events = await verbEvents(call);
    expect(events.map((e) => [e.type, e.verb, e.status])).toEqual([
      ['verb.start', 'say', undefined],
      ['verb.result', 'say', 'completed'],
      ['verb.start', 'gate', undefined],
      ['verb.result', 'gate', 'refused'],
    ]);
    expect(JSON.stringify(await gw.gateway.telephony.events.list(call.id))).not.toContain(
      'device_active',
    );
    // The Gate's decision was taken after the greeting, and says why.
    const { body } = await gw.apiRequest<{
      decisions: { stage: string; failed: string | null; at: string | number }[];
    }>('GET', `${GATED}/decisions?callId=${call.id}`);
    expect(body.decisions.map((d) => [d.stage, d.failed])).toEqual([
      ['authorize', 'device_active'],
    ]);
    const greeted = events.find((e) => e.type === 'verb.result' && e.verb === 'say')!.at;
    expect(new Date(body.decisions[0]!.at).getTime()).toBeGreaterThanOrEqual(greeted);
  },
);

it(
  'greets the caller, then connects through the gate: the gate’s result is connected',
  {
    timeout: 150_000,
  },
  async () => {
    await account('Visiting Caller', '+14155550132', 500);
    const resident = await startSipp({
      scenario: { file: join(FIXTURES, 'sipp-gated-device.xml') },
      calls: 1,
      rtpEcho: true,
      timeoutMs: 120_000,
    });
    try {
      const registered = await client.register(
        gw.udp,
        device.sipUser,
        device.secret,
        [`<sip:${device.sipUser}@127.0.0.1:${resident.localPort}>`],
        [],
        'MD5',
      );
      expect(registered.status).toBe(200);
      const { phone, since, call } = await dialDid('4155550132');
      // Connected once the resident's PIN was re-verified: the meter runs; then the gateway ends it.
      await expect
        .poll(() => gw.gateway.gated.meter.isRunning(call.id), { timeout: 60_000 })
        .toBe(true);
      await expect.poll(() => call.record.answeredAt, { timeout: 10_000 }).not.toBeNull();
      call.end({ outcome: 'answered', endedBy: 'gateway', reason: 'normal_clearing' });
      const heard = await heardBy(phone, since, 'greeting-connected');
      await gw.callsEnded(10_000);
      const words = await transcribe(heard, { narrowband: true });
      expect(wordsFound(GREETING_WORDS, words), words).toBeGreaterThanOrEqual(4);

      const events = await verbEvents(call);
      expect(events.map((e) => [e.type, e.verb, e.status])).toEqual([
        ['verb.start', 'say', undefined],
        ['verb.result', 'say', 'completed'],
        ['verb.start', 'gate', undefined],
        ['verb.result', 'gate', 'connected'],
      ]);
      const { body } = await gw.apiRequest<{ decisions: { stage: string; allowed: boolean }[] }>(
        'GET',
        `${GATED}/decisions?callId=${call.id}`,
      );
      expect(body.decisions.map((d) => [d.stage, d.allowed]).reverse()).toEqual([
        ['authorize', true],
        ['reverify', true],
      ]);
      expect((await resident.result).stats.successful).toBe(1);
    } finally {
      await resident.stop().catch(() => undefined);
    }
  },
);

it.skipIf(!sippAvailable())(
  'keys typed during an interruptible greeting reach the gate: the account number and PIN are not asked again',
  {
    timeout: 150_000,
  },
  async () => {
    const made = await approvedAccount(
      gw,
      'typed',
      { name: 'Typing Caller', phones: [], number: '70537053', pin: '2580' },
      500,
    );
    const resident = await startSipp({
      scenario: { file: join(FIXTURES, 'sipp-gated-device.xml') },
      calls: 1,
      rtpEcho: true,
      timeoutMs: 120_000,
    });
    // The carrier keys the account number and PIN from 1 s after its ACK: while the greeting plays.
    const caller = await startSipp({
      scenario: { file: await carrierScenario(work, 'typed-ahead', '70537053#2580#') },
      remote: gw.udp,
      address: CARRIER,
      calls: 1,
      injection: { rows: [[TYPE_AHEAD_DID, '4155550133']] },
      timeoutMs: 120_000,
      recvTimeoutMs: 100_000,
    });
    try {
      const registered = await client.register(
        gw.udp,
        device.sipUser,
        device.secret,
        [`<sip:${device.sipUser}@127.0.0.1:${resident.localPort}>`],
        [],
        'MD5',
      );
      expect(registered.status).toBe(200);
      await expect
        .poll(() => calls.filter((c) => c.record.called === TYPE_AHEAD_DID).length, {
          timeout: 20_000,
        })
        .toBe(1);
      const call = calls.find((c) => c.record.called === TYPE_AHEAD_DID)!;
      await expect
        .poll(() => gw.gateway.gated.meter.isRunning(call.id), { timeout: 60_000 })
        .toBe(true)
        .catch(async (error: unknown) => {
          const { body } = await gw.apiRequest('GET', `${GATED}/decisions?callId=${call.id}`);
          throw new Error(`not connected: ${JSON.stringify(body)}`, { cause: error });
        });
      call.end({ outcome: 'answered', endedBy: 'gateway', reason: 'normal_clearing' });
      const result = await caller.result;
      expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
      expect((await resident.result).stats.successful).toBe(1);
      await gw.callsEnded(10_000);

      // The greeting was interrupted by the first key; the gate connected.
      expect((await verbEvents(call)).map((e) => [e.type, e.verb, e.status])).toEqual([
        ['verb.start', 'say', undefined],
        ['verb.result', 'say', 'interrupted'],
        ['verb.start', 'gate', undefined],
        ['verb.result', 'gate', 'connected'],
      ]);
      // The number names no account; the pair keyed ahead does, at the first try.
      const { body } = await gw.apiRequest<{
        decisions: { stage: string; allowed: boolean; failed: string | null; accountId: string }[];
      }>('GET', `${GATED}/decisions?callId=${call.id}`);
      const decisions = body.decisions.reverse();
      expect(decisions.map((d) => [d.stage, d.allowed, d.failed])).toEqual([
        ['authorize', false, 'caller_account'],
        ['authorize', true, null],
        ['reverify', true, null],
      ]);
      expect(decisions[1]?.accountId).toBe(made.id);
    } finally {
      await caller.stop().catch(() => undefined);
      await resident.stop().catch(() => undefined);
    }
  },
);
