/**
 * Phone callers on a gated facility's DID (docs/gated.md, "Phone callers"),
 * against real peers: sipp is the carrier (127.0.0.2, on the trunk's access
 * list) calling the DID and keying account numbers and PINs as RFC 4733
 * events (the pcaps sipp ships); the resident's plain SIP phone is a second
 * sipp (registered with its device credential, it answers and keys the
 * resident's PIN). The gateway answers the carrier, asks the Gate, gathers
 * the account and PIN, rings the phone and bridges; every decision is read
 * back from the facility's API.
 *
 * - a caller whose number is a verified number of an account: authorised by
 *   the number alone, the phone rings with the account's name, connected;
 * - a caller on no account keys the account number and a wrong PIN, hears
 *   the re-prompt, keys the right PIN: connected, one minute charged;
 * - PIN brute force: three wrong PINs in one call (the tries of a call are
 *   used up: refused and hung up), and the account is locked: the next call,
 *   with the right PIN, is refused `pin_lockout`; neither call is authorised, so nothing rings;
 * - the resident's wrong PIN keyed on her phone three times (`maxFailures` 3):
 *   the device and the resident are locked (stored, counted in
 *   `parley_gated_pin_lockouts_total`); the next call rings her phone, the
 *   right PIN is refused `pin_lockout`, nothing connects.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sippAvailable, startSipp, stopAll, type SippInstance } from '@parley/testkit';
import type { Call } from '../src/calls/index.js';
import { CARRIER } from './carrier.js';
import { TENANT, type TestGateway } from './harness.js';
import { carrierScenario } from './gated-carrier.js';
import { GATED, approvedAccount, decisionsOf, startGatedFacility } from './gated-facility.js';
import { RawSipClient } from './raw-sip.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const DID = '+14155550177';

let gw: TestGateway;
let client: RawSipClient;
let work: string;
const calls = new Map<string, Call>();
const accounts: Record<string, { id: string; number: string }> = {};

function carrier(file: string, from: string): Promise<SippInstance> {
  return startSipp({
    scenario: { file },
    remote: gw.udp,
    address: CARRIER,
    calls: 1,
    injection: { rows: [[DID, from]] },
    timeoutMs: 150_000,
    recvTimeoutMs: 120_000,
  });
}

/**
 * The resident's phone: answers, keys 1593# (RFC 4733; `wrongPins`: three
 * wrong PINs instead), echoes, waits for the BYE.
 */
async function residentPhone(wrongPins = false): Promise<SippInstance> {
  const fixture = wrongPins ? 'sipp-gated-device-wrong-pin.xml' : 'sipp-gated-device.xml';
  const phone = await startSipp({
    scenario: { file: join(FIXTURES, fixture) },
    calls: 1,
    rtpEcho: true,
    timeoutMs: 150_000,
  });
  const registered = await client.register(
    gw.udp,
    device.sipUser,
    device.secret,
    [`<sip:${device.sipUser}@127.0.0.1:${phone.localPort}>`],
    [],
    'MD5',
  );
  expect(registered.status).toBe(200);
  return phone;
}

let device: { sipUser: string; secret: string };

async function account(
  key: string,
  body: Record<string, unknown>,
  credit: number,
): Promise<{ id: string; number: string }> {
  accounts[key] = await approvedAccount(gw, key, body, credit);
  return accounts[key];
}

/** The calls from the carrier, newest last. */
function phoneCalls(): Call[] {
  return [...calls.values()].filter((c) => c.record.channel === 'phone');
}

/** Waits until the call is connected to the phone (its meter runs), then ends it from the gateway. */
async function connectedThenEnd(call: Call): Promise<void> {
  await expect
    .poll(() => gw.gateway.gated.meter.isRunning(call.id), { timeout: 60_000 })
    .toBe(true)
    .catch(async (error: unknown) => {
      throw new Error(`not connected: ${JSON.stringify(await decisionsOf(gw, call.id))}`, {
        cause: error,
      });
    });
  await expect.poll(() => call.record.answeredAt, { timeout: 10_000 }).not.toBeNull();
  call.end({ outcome: 'answered', endedBy: 'gateway', reason: 'normal_clearing' });
}

/** A counter's value in the gateway's /metrics (0 when absent). */
async function counter(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${gw.gateway.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function newCall(before: number): Promise<Call> {
  await expect.poll(() => phoneCalls().length, { timeout: 20_000 }).toBeGreaterThan(before);
  return phoneCalls().at(-1)!;
}

afterAll(() => stopAll());

describe.skipIf(!sippAvailable())('phone callers on a gated DID (sipp carrier)', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'parley-gated-trunk-'));
    ({ gw, device } = await startGatedFacility(DID, {
      pin: { delayMs: 0, maxFailures: 3 },
      dtmfPinAttempts: 3,
    }));
    client = await RawSipClient.open();
    gw.gateway.calls.onCall((c) => calls.set(c.id, c));
    await account(
      'grace',
      { name: 'Grace Hopper', phones: [{ number: '+14155550199', verified: true }] },
      500,
    );
    await account(
      'ada',
      { name: 'Ada Lovelace', phones: [], number: '70517051', pin: '2580' },
      500,
    );
    await account('eve', { name: 'Eve', phones: [], number: '70527052', pin: '3690' }, 500);
  });
  afterAll(async () => {
    client?.close();
    await gw?.close();
  });

  it(
    'authorises a caller by its verified number alone: the phone rings with the account’s name, connected',
    {
      timeout: 180_000,
    },
    async () => {
      const phone = await residentPhone();
      const before = phoneCalls().length;
      const caller = await carrier(await carrierScenario(work, 'known', ''), '4155550199');
      try {
        const call = await newCall(before);
        await connectedThenEnd(call);
        const result = await caller.result;
        expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
        const rang = await phone.result;
        expect(rang.stats.successful, rang.output).toBe(1);
        const invite = /INVITE sip:[\s\S]*?\r?\n\r?\n/.exec(rang.messages)?.[0] ?? '';
        expect(invite).toMatch(/^From: "Grace Hopper" <sip:anonymous@/m);
        expect(invite).not.toContain('4155550199');
        const decisions = await decisionsOf(gw, call.id);
        expect(decisions.map((d) => [d.stage, d.allowed, d.failed])).toEqual([
          ['authorize', true, null],
          ['reverify', true, null],
        ]);
        expect(call.record).toMatchObject({ channel: 'phone', called: DID, outcome: 'answered' });
      } finally {
        await caller.stop().catch(() => undefined);
        await phone.stop().catch(() => undefined);
      }
    },
  );

  it(
    'gathers the account number and PIN: a wrong PIN is asked again, the right one connects, one minute charged',
    {
      timeout: 180_000,
    },
    async () => {
      const phone = await residentPhone();
      const before = phoneCalls().length;
      const caller = await carrier(
        await carrierScenario(work, 'keyed', '70517051#1234#70517051#2580#'),
        '4155550100',
      );
      try {
        const call = await newCall(before);
        await connectedThenEnd(call);
        const result = await caller.result;
        expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
        expect((await phone.result).stats.successful).toBe(1);
        const decisions = await decisionsOf(gw, call.id);
        expect(decisions.map((d) => [d.stage, d.allowed, d.failed])).toEqual([
          ['authorize', false, 'caller_account'],
          ['authorize', false, 'account_pin'],
          ['authorize', true, null],
          ['reverify', true, null],
        ]);
        const ada = accounts['ada']!;
        const charges = await gw.apiRequest<{ charges: { callId: string }[] }>(
          'GET',
          `${GATED}/accounts/${ada.id}/charges`,
        );
        expect(charges.body.charges.filter((c) => c.callId === call.id)).toHaveLength(1);
        const view = await gw.apiRequest<{ balance: number }>('GET', `${GATED}/accounts/${ada.id}`);
        expect(view.body.balance).toBe(490);
      } finally {
        await caller.stop().catch(() => undefined);
        await phone.stop().catch(() => undefined);
      }
    },
  );

  it(
    'locks an account out after PINs guessed by DTMF: the call’s tries end in a refusal, the next call is refused even with the right PIN',
    {
      timeout: 300_000,
    },
    async () => {
      const eve = accounts['eve']!;
      // Call 1: three wrong PINs (the call's tries, and the tenant's maxFailures).
      const before = phoneCalls().length;
      const first = await carrier(
        await carrierScenario(work, 'guess', '70527052#1234#70527052#4321#70527052#1357#'),
        '4155550101',
      );
      let guessed: Call;
      try {
        guessed = await newCall(before);
        const result = await first.result; // the gateway hung up (notAvailable, then BYE)
        expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
      } finally {
        await first.stop().catch(() => undefined);
      }
      const guesses = await decisionsOf(gw, guessed.id);
      expect(guesses.map((d) => [d.stage, d.allowed, d.failed])).toEqual([
        ['authorize', false, 'caller_account'],
        ['authorize', false, 'account_pin'],
        ['authorize', false, 'account_pin'],
        ['authorize', false, 'account_pin'],
      ]);
      expect(guessed.record).toMatchObject({ outcome: 'failed', reason: 'callee_not_available' });

      // Call 2, another number: the right PIN, but the account is locked.
      const again = phoneCalls().length;
      const second = await carrier(
        await carrierScenario(work, 'locked', '70527052#3690#'),
        '4155550102',
      );
      let locked: Call;
      try {
        locked = await newCall(again);
        const result = await second.result;
        expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
      } finally {
        await second.stop().catch(() => undefined);
      }
      const refused = await decisionsOf(gw, locked.id);
      expect(refused.map((d) => [d.stage, d.allowed, d.failed])).toEqual([
        ['authorize', false, 'caller_account'],
        ['authorize', false, 'pin_lockout'],
      ]);
      // The lockout is recorded (survives a restart): the stored attempts say locked.
      const row = await gw.gateway.gated.store.pinAttempts.get(`account:${TENANT}/#70527052`);
      expect(row?.lockedUntil ?? 0, JSON.stringify(row)).toBeGreaterThan(Date.now());
      const view = await gw.apiRequest<{ balance: number }>('GET', `${GATED}/accounts/${eve.id}`);
      expect(view.body.balance).toBe(500);
    },
  );

  // Last: it locks Rita and her phone out for the rest of the file.
  it(
    'locks the resident out after three wrong PINs keyed on her phone: stored, counted; the next call, with the right PIN, is refused pin_lockout',
    {
      timeout: 300_000,
    },
    async () => {
      const lockouts = {
        device: await counter('parley_gated_pin_lockouts_total', 'subject="device"'),
        resident: await counter('parley_gated_pin_lockouts_total', 'subject="resident"'),
      };
      // Call 1: Grace (authorised by her number); Rita's phone keys three wrong PINs.
      const wrong = await residentPhone(true);
      const before = phoneCalls().length;
      const first = await carrier(await carrierScenario(work, 'resident-guess', ''), '4155550199');
      let guessed: Call;
      try {
        guessed = await newCall(before);
        const rang = await wrong.result; // the gateway's BYE after the third wrong PIN
        expect(rang.stats.successful, rang.output).toBe(1);
        const result = await first.result; // the not-available prompt, then the BYE
        expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
      } finally {
        await first.stop().catch(() => undefined);
        await wrong.stop().catch(() => undefined);
      }
      await gw.callsEnded(10_000);
      expect(
        (await decisionsOf(gw, guessed.id)).map((d) => [d.stage, d.allowed, d.failed]),
      ).toEqual([
        ['authorize', true, null],
        ['reverify', false, 'resident_pin'],
        ['reverify', false, 'resident_pin'],
        ['reverify', false, 'resident_pin'],
      ]);
      expect(guessed.record).toMatchObject({ outcome: 'failed', reason: 'callee_not_available' });
      // Locked (maxFailures 3): the device and the resident, stored (a restart keeps it), counted.
      for (const subject of [`device:${TENANT}/cell-12`, `resident:${TENANT}/r-1`]) {
        const row = await gw.gateway.gated.store.pinAttempts.get(subject);
        expect(row?.lockedUntil ?? 0, `${subject}: ${JSON.stringify(row)}`).toBeGreaterThan(
          Date.now(),
        );
      }
      expect(await counter('parley_gated_pin_lockouts_total', 'subject="device"')).toBe(
        lockouts.device + 1,
      );
      expect(await counter('parley_gated_pin_lockouts_total', 'subject="resident"')).toBe(
        lockouts.resident + 1,
      );

      // Call 2: the phone rings again and keys the right PIN, but the lockout stands.
      const right = await residentPhone();
      const again = phoneCalls().length;
      const second = await carrier(
        await carrierScenario(work, 'resident-locked', ''),
        '4155550199',
      );
      let locked: Call;
      try {
        locked = await newCall(again);
        expect((await right.result).stats.successful).toBe(1);
        const result = await second.result;
        expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
      } finally {
        await second.stop().catch(() => undefined);
        await right.stop().catch(() => undefined);
      }
      await gw.callsEnded(10_000);
      expect((await decisionsOf(gw, locked.id)).map((d) => [d.stage, d.allowed, d.failed])).toEqual(
        [
          ['authorize', true, null],
          ['reverify', false, 'pin_lockout'],
        ],
      );
      expect(locked.record).toMatchObject({ outcome: 'failed', reason: 'callee_not_available' });
      expect(gw.gateway.gated.meter.isRunning(locked.id)).toBe(false);
    },
  );
});
