/**
 * A baresip phone as the resident's device on the allowed path (docs/gated.md,
 * "Phone callers on a DID"): Rita's phone is baresip, registered with her
 * device's own credential (MD5 digest) and answering by hand; the caller is a
 * second baresip on the carrier's side (127.0.0.2, on the trunk's access
 * list) whose number is a verified number of Grace Hopper's account. Each
 * phone sends its own tone (the caller 800 Hz, Rita 1 kHz) and records what
 * it hears.
 *
 * - the right PIN: Rita's phone rings showing "Grace Hopper" (the name its
 *   INVITE's From carries, no number), she accepts, hears the whole PIN prompt
 *   (pocketsphinx finds its words), keys 1593# from the phone's control socket
 *   (`sndcode`, RFC 4733, one key at a time); the Gate re-verifies, the call
 *   connects, each side hears the other's tone, `authorize` and `reverify`
 *   are stored, one minute charged;
 * - a wrong PIN (the tenant allows one try): the phone gets the gateway's BYE,
 *   the caller a BYE with `callee_not_available`, `reverify` stored refused
 *   with `resident_pin`, nothing charged.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  analyseTail,
  runCommand,
  startBaresipAgent,
  stopAll,
  transcribe,
  until,
  wavSeconds,
  wordsFound,
  type BaresipAgent,
} from '@parley/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Call } from '../src/calls/index.js';
import { CARRIER } from './carrier.js';
import { TENANT, type TestGateway } from './harness.js';
import { GATED, approvedAccount, decisionsOf, startGatedFacility } from './gated-facility.js';

const DID = '+14155550172';
const CALLER = '4155550199';
/** The PIN prompt a phone hears (`residentIncoming`, then `residentEnterPin`), as words. */
const PROMPT =
  'you have a call from grace hopper enter your pin then press pound to accept the call';

let gw: TestGateway;
let work: string;
let rita: BaresipAgent;
let grace: { id: string; number: string };
const calls: Call[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'parley-gated-resident-'));
  const facility = await startGatedFacility(DID, { pin: { delayMs: 0 }, dtmfPinAttempts: 1 });
  gw = facility.gw;
  gw.gateway.calls.onCall((c) => calls.push(c));
  grace = await approvedAccount(
    gw,
    'grace',
    { name: 'Grace Hopper', phones: [{ number: `+1${CALLER}`, verified: true }] },
    500,
  );
  rita = await startBaresipAgent({
    user: facility.device.sipUser,
    password: facility.device.secret,
    registrar: gw.udp,
    transport: 'udp',
    answerMode: 'manual',
    codecs: ['PCMU'],
    toneHz: 1000,
    name: 'rita',
  });
  await rita.registered();
});

afterAll(async () => {
  await rita?.stop();
  await gw?.close();
  await stopAll();
});

interface Ringing {
  readonly caller: BaresipAgent;
  readonly call: Call;
  /** What Rita's phone shows: the display name of the INVITE's From. */
  readonly shown: string | undefined;
  readonly invite: string;
}

/** Grace calls the DID from her verified number; resolves once Rita's phone rings. */
async function graceCalls(): Promise<Ringing> {
  const caller = await startBaresipAgent({
    user: CALLER,
    address: CARRIER,
    codecs: ['PCMU'],
    name: 'grace',
  });
  const since = rita.mark();
  const sipSince = rita.sipMessages().length;
  const before = calls.length;
  await caller.dial(`sip:${DID}@${gw.udp}`);
  const incoming = await rita.waitForEvent('CALL_INCOMING', undefined, 20_000, { since });
  const invite = await rita.waitForRequest('INVITE', undefined, 1000, { since: sipSince });
  const call = await until(() => calls.length > before && calls.at(-1), 'the DID call');
  return { caller, call, shown: incoming.peerdisplayname, invite: invite.raw };
}

/**
 * Rita accepts and listens to the whole PIN prompt (her phone's recording of
 * the call holds as much audio as the prompt the gateway synthesised), then
 * keys `keys` one at a time; resolves with her recording and the prompt's length.
 */
async function answerAndKey(keys: string): Promise<{ heard: string; promptSeconds: number }> {
  const gate = gw.gateway.gated.gate;
  const prompt = `${gate.prompt(TENANT, 'residentIncoming', { caller: 'Grace Hopper' })} ${gate.prompt(TENANT, 'residentEnterPin')}`;
  const audio = await gw.gateway.speech.tts.synthesize(prompt, { sampleRate: 8000 });
  const promptSeconds = audio.durationMs / 1000;
  const earlier = new Set(rita.recordings().map((r) => r.path));
  const since = rita.mark();
  await rita.accept();
  await rita.waitForEvent('CALL_ESTABLISHED', undefined, 10_000, { since });
  const heard = await until(
    () => rita.recordings().find((r) => r.kind === 'received' && !earlier.has(r.path))?.path,
    'Rita’s recording of this call',
  );
  await until(
    () => wavSeconds(heard) >= promptSeconds - 0.1,
    'the PIN prompt heard to its end',
    30_000,
  );
  for (const key of keys) {
    const sent = await rita.command('sndcode', key);
    expect(sent.ok, JSON.stringify(sent)).toBe(true);
  }
  return { heard, promptSeconds };
}

it(
  'the right PIN keyed on a baresip phone: it rang with the caller’s name, connected, audio both ways, one minute charged',
  {
    timeout: 180_000,
  },
  async () => {
    const { caller, call, shown, invite } = await graceCalls();
    try {
      expect(shown).toBe('Grace Hopper');
      expect(invite).toMatch(/^From: "Grace Hopper" <sip:anonymous@/m);
      expect(invite).not.toContain(CALLER);
      const { heard, promptSeconds } = await answerAndKey('1593#');
      await until(
        () => gw.gateway.gated.meter.isRunning(call.id),
        'the call connected',
        30_000,
      ).catch(async (error: unknown) => {
        throw new Error(`not connected: ${JSON.stringify(await decisionsOf(gw, call.id))}`, {
          cause: error,
        });
      });
      await until(() => call.record.answeredAt, 'the record answered');

      // Bridged: three more seconds reach each phone; each holds the other's tone.
      const callerHeard = caller.lastRecording().received!;
      const fromCaller = wavSeconds(heard);
      const fromRita = wavSeconds(callerHeard);
      await until(
        () => wavSeconds(heard) >= fromCaller + 3 && wavSeconds(callerHeard) >= fromRita + 3,
        'three seconds of the bridge on both phones',
        30_000,
      );
      const since = rita.mark();
      await caller.hangup();
      await rita.waitForEvent('CALL_CLOSED', undefined, 10_000, { since });
      await gw.callsEnded(10_000);
      const atRita = await analyseTail(heard, 2);
      expect(atRita.roughFrequencyHz).toBeGreaterThan(700);
      expect(atRita.roughFrequencyHz).toBeLessThan(900);
      const atCaller = await analyseTail(callerHeard, 2);
      expect(atCaller.roughFrequencyHz).toBeGreaterThan(900);
      expect(atCaller.roughFrequencyHz).toBeLessThan(1100);

      // What Rita heard before she keyed: the prompt, to its end.
      const prompt = join(work, 'prompt.wav');
      await runCommand('sox', [heard, prompt, 'trim', '0', promptSeconds.toFixed(2)]);
      const words = await transcribe(prompt, { narrowband: true });
      // Its words in order; flite's narrowband voice is misheard in places (measured:
      // "he has a call from grace hopper and harriet and then press down the dead of a bomb").
      expect(wordsFound(PROMPT, words), words).toBeGreaterThanOrEqual(6);
      expect(words).toMatch(/call from grace hopper/);

      expect((await decisionsOf(gw, call.id)).map((d) => [d.stage, d.allowed, d.failed])).toEqual([
        ['authorize', true, null],
        ['reverify', true, null],
      ]);
      expect(call.record).toMatchObject({ channel: 'phone', called: DID, outcome: 'answered' });
      const charges = await gw.apiRequest<{ charges: { callId: string }[] }>(
        'GET',
        `${GATED}/accounts/${grace.id}/charges`,
      );
      expect(charges.body.charges.filter((c) => c.callId === call.id)).toHaveLength(1);
      const view = await gw.apiRequest<{ balance: number }>('GET', `${GATED}/accounts/${grace.id}`);
      expect(view.body.balance).toBe(490);
    } finally {
      await caller.stop();
    }
  },
);

it(
  'a wrong PIN keyed on the baresip phone: hung up, the caller refused, the reason stored, nothing charged',
  {
    timeout: 180_000,
  },
  async () => {
    const balance = async (): Promise<number> =>
      (await gw.apiRequest<{ balance: number }>('GET', `${GATED}/accounts/${grace.id}`)).body
        .balance;
    const before = await balance();
    const { caller, call } = await graceCalls();
    try {
      const since = rita.mark();
      const callerSince = caller.mark();
      await answerAndKey('2468#');
      // One try (dtmfPinAttempts 1): the gateway hangs the phone up, then the caller.
      await rita.waitForEvent('CALL_CLOSED', undefined, 30_000, { since });
      await caller.waitForEvent('CALL_CLOSED', undefined, 60_000, { since: callerSince });
      const bye = caller.receivedRequests('BYE').at(-1);
      expect(bye?.header('reason')).toBe('SIP;cause=480;text="callee_not_available"');
      expect(rita.receivedRequests('BYE').at(-1)?.header('reason')).toMatch(/callee_not_available/);
      await gw.callsEnded(10_000);
      expect((await decisionsOf(gw, call.id)).map((d) => [d.stage, d.allowed, d.failed])).toEqual([
        ['authorize', true, null],
        ['reverify', false, 'resident_pin'],
      ]);
      expect(call.record).toMatchObject({ outcome: 'failed', reason: 'callee_not_available' });
      expect(gw.gateway.gated.meter.isRunning(call.id)).toBe(false);
      const charges = await gw.apiRequest<{ charges: { callId: string }[] }>(
        'GET',
        `${GATED}/accounts/${grace.id}/charges`,
      );
      expect(charges.body.charges.filter((c) => c.callId === call.id)).toEqual([]);
      expect(await balance()).toBe(before);
    } finally {
      await caller.stop();
    }
  },
);
