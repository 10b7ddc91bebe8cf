/**
 * A gated facility's phone callers choosing among residents, and connected
 * calls re-verified at the tenant's interval (docs/gated.md, "Phone callers on
 * a DID", steps 3 and 6), against real peers: sipp is the carrier (127.0.0.2)
 * keying the resident's number as RFC 4733; Sam's phone is a second sipp
 * (registered with its device credential: it answers and keys his PIN);
 * Rita's phone is baresip, registered, and must never ring.
 *
 * - an account approved for Rita and Sam, calling from its verified number:
 *   the Gate asks which resident (`callee`), the caller keys Sam's number,
 *   only Sam's phone rings, connected; the rechecks pass while nothing
 *   changes; the facility suspends the account: the next recheck refuses
 *   (`account_status`) and the gateway ends the call, a BYE with
 *   `Reason: …;text="callee_not_available"` to the caller and to the phone;
 * - the facility withdraws an approval during a call: the next recheck
 *   refuses (`account_resident`) and the call ends the same way;
 * - Sam's own line (its flow `[{ verb: 'gate', resident: '5812' }]`): an
 *   account approved for Rita and Sam is not asked whom it calls, Sam's
 *   phone rings, Rita's never;
 * - a wrong PIN keyed on Sam's phone, three times: each refused
 *   (`resident_pin`), the phone gets a BYE, the caller hears the
 *   not-available prompt and is hung up; nothing is charged.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  sippAvailable,
  startBaresipAgent,
  startSipp,
  stopAll,
  type BaresipAgent,
  type SippInstance,
} from '@parley/testkit';
import type { Call } from '../src/calls/index.js';
import { CARRIER } from './carrier.js';
import type { TestGateway } from './harness.js';
import { carrierScenario } from './gated-carrier.js';
import { GATED, approvedAccount, decisionsOf, startGatedFacility } from './gated-facility.js';
import { RawSipClient } from './raw-sip.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const DID = '+14155550176';
/** Sam's own line: its flow's gate names him. */
const SAMS_LINE = '+14155550175';
/** Residents' numbers a caller keys (no key twice in a row: see `carrierScenario`). */
const RITA = '4701';
const SAM = '5812';

let gw: TestGateway;
let client: RawSipClient;
let work: string;
let rita: BaresipAgent;
let samDevice: { sipUser: string; secret: string };
const calls: Call[] = [];

/**
 * Sam's phone (sipp): registered with cell-14's credential; answers, keys
 * 1593# (his PIN; `wrongPins`: three wrong ones), echoes.
 */
async function samsPhone(wrongPins = false): Promise<SippInstance> {
  const fixture = wrongPins ? 'sipp-gated-device-wrong-pin.xml' : 'sipp-gated-device.xml';
  const phone = await startSipp({
    scenario: { file: join(FIXTURES, fixture) },
    calls: 1,
    rtpEcho: true,
    timeoutMs: 150_000,
  });
  const registered = await client.register(
    gw.udp,
    samDevice.sipUser,
    samDevice.secret,
    [`<sip:${samDevice.sipUser}@127.0.0.1:${phone.localPort}>`],
    [],
    'MD5',
  );
  expect(registered.status).toBe(200);
  return phone;
}

function carrier(file: string, from: string, did = DID): Promise<SippInstance> {
  return startSipp({
    scenario: { file },
    remote: gw.udp,
    address: CARRIER,
    calls: 1,
    injection: { rows: [[did, from]] },
    timeoutMs: 150_000,
    recvTimeoutMs: 120_000,
  });
}

/** The first BYE in a sipp message log, and its Reason header. */
function byeReason(messages: string): string | undefined {
  const bye = /^BYE sip:[\s\S]*?\r?\n\r?\n/m.exec(messages)?.[0] ?? '';
  return /^Reason: *(.*)$/im.exec(bye)?.[1]?.trim();
}

async function newCall(before: number): Promise<Call> {
  await expect.poll(() => calls.length, { timeout: 20_000 }).toBeGreaterThan(before);
  return calls.at(-1)!;
}

/** Waits for the call to be connected (its meter runs) and for a recheck that passed. */
async function connectedAndRechecked(call: Call): Promise<void> {
  await expect
    .poll(() => gw.gateway.gated.meter.isRunning(call.id), { timeout: 60_000 })
    .toBe(true)
    .catch(async (error: unknown) => {
      throw new Error(`not connected: ${JSON.stringify(await decisionsOf(gw, call.id))}`, {
        cause: error,
      });
    });
  await expect
    .poll(
      async () => (await decisionsOf(gw, call.id)).some((d) => d.stage === 'recheck' && d.allowed),
      { timeout: 20_000 },
    )
    .toBe(true);
}

afterAll(() => stopAll());

describe.skipIf(!sippAvailable())('gated calls: choosing a resident, rechecks', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'parley-gated-rechecks-'));
    let rita1: { sipUser: string; secret: string };
    ({ gw, device: rita1 } = await startGatedFacility(
      DID,
      { pin: { delayMs: 0 }, reverifyIntervalSeconds: 1 },
      [{ verb: 'gate' }],
      { [SAMS_LINE]: [{ verb: 'gate', resident: SAM }] },
    ));
    gw.gateway.calls.onCall((c) => calls.push(c));
    client = await RawSipClient.open();
    // Rita (r-1, cell-12) gets a number; Sam (r-2) has his own phone, cell-14.
    expect((await gw.apiRequest('PUT', `${GATED}/residents/r-1`, { number: RITA })).status).toBe(
      200,
    );
    const made = await gw.apiRequest<{ credential: { sipUser: string; secret: string } }>(
      'PUT',
      `${GATED}/devices/cell-14`,
      { kind: 'sip' },
    );
    expect(made.status).toBe(201);
    samDevice = made.body.credential;
    expect(
      (
        await gw.apiRequest('PUT', `${GATED}/residents/r-2`, {
          name: 'Sam',
          number: SAM,
          pin: '1593',
          devices: ['cell-14'],
        })
      ).status,
    ).toBe(201);
    // Rita's phone is registered (her device is active): it must still never ring.
    rita = await startBaresipAgent({
      user: rita1.sipUser,
      password: rita1.secret,
      registrar: gw.udp,
      transport: 'udp',
    });
    await rita.registered();
  });
  afterAll(async () => {
    await rita?.stop();
    client?.close();
    await gw?.close();
  });

  it(
    'the caller keys Sam’s number: only his phone rings; suspended mid-call, the next recheck ends the call',
    { timeout: 180_000 },
    async () => {
      const grace = await approvedAccount(
        gw,
        'grace',
        { name: 'Grace Hopper', phones: [{ number: '+14155550141', verified: true }] },
        500,
      );
      await gw.apiRequest('PUT', `${GATED}/accounts/${grace.id}/residents/r-2`, {
        status: 'approved',
      });
      const phone = await samsPhone();
      const before = calls.length;
      const ritaInvites = rita.receivedRequests('INVITE').length;
      const caller = await carrier(await carrierScenario(work, 'choose', `${SAM}#`), '4155550141');
      try {
        const call = await newCall(before);
        await connectedAndRechecked(call);
        // The facility suspends the account: the next recheck refuses and the call ends.
        const suspended = await gw.apiRequest('PATCH', `${GATED}/accounts/${grace.id}`, {
          status: 'suspended',
        });
        expect(suspended.status).toBe(200);
        const result = await caller.result; // the gateway's BYE
        expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
        expect(byeReason(result.messages), result.messages).toMatch(/text="callee_not_available"/);
        const rang = await phone.result;
        expect(rang.stats.successful, rang.output).toBe(1);
        expect(byeReason(rang.messages), rang.messages).toMatch(/text="callee_not_available"/);
        await gw.callsEnded(10_000);
        expect(call.record).toMatchObject({
          outcome: 'answered',
          endedBy: 'gateway',
          reason: 'callee_not_available',
        });

        // Which resident (the account may call two), Sam keyed, Sam's PIN, rechecks that
        // passed, the one that refused: in order, each with its reason.
        const decisions = await decisionsOf(gw, call.id);
        const shown = decisions.map((d) => [d.stage, d.allowed, d.failed]);
        expect(shown.slice(0, 3)).toEqual([
          ['authorize', false, 'callee'],
          ['authorize', true, null],
          ['reverify', true, null],
        ]);
        expect(decisions[1]!.residentId).toBe('r-2');
        const rechecks = shown.slice(3);
        expect(rechecks.at(-1)).toEqual(['recheck', false, 'account_status']);
        expect(rechecks.slice(0, -1).length).toBeGreaterThan(0);
        for (const r of rechecks.slice(0, -1)) expect(r).toEqual(['recheck', true, null]);
        // Rita's phone never got an INVITE.
        expect(rita.receivedRequests('INVITE').length).toBe(ritaInvites);
      } finally {
        await caller.stop().catch(() => undefined);
        await phone.stop().catch(() => undefined);
      }
    },
  );

  it(
    'the facility withdraws the approval mid-call: the next recheck ends the call',
    { timeout: 180_000 },
    async () => {
      // Approved for Sam only: no resident to choose.
      const made = await gw.apiRequest<{ id: string }>('POST', `${GATED}/accounts`, {
        name: 'Hal Abelson',
        phones: [{ number: '+14155550142', verified: true }],
        ratePerMinute: 10,
      });
      expect(made.status).toBe(201);
      const hal = made.body.id;
      await gw.apiRequest('PUT', `${GATED}/accounts/${hal}/residents/r-2`, {
        status: 'approved',
      });
      await gw.apiRequest('POST', `${GATED}/accounts/${hal}/credits`, {
        amount: 500,
        key: 'seed-hal',
      });
      const phone = await samsPhone();
      const before = calls.length;
      const caller = await carrier(await carrierScenario(work, 'withdrawn', ''), '4155550142');
      try {
        const call = await newCall(before);
        await connectedAndRechecked(call);
        await gw.apiRequest('PUT', `${GATED}/accounts/${hal}/residents/r-2`, {
          status: 'denied',
        });
        const result = await caller.result;
        expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
        expect(byeReason(result.messages), result.messages).toMatch(/text="callee_not_available"/);
        expect((await phone.result).stats.successful).toBe(1);
        const decisions = await decisionsOf(gw, call.id);
        expect(decisions.slice(0, 2).map((d) => [d.stage, d.allowed, d.failed])).toEqual([
          ['authorize', true, null],
          ['reverify', true, null],
        ]);
        expect(decisions.at(-1)).toMatchObject({
          stage: 'recheck',
          allowed: false,
          failed: 'account_resident',
        });
      } finally {
        await caller.stop().catch(() => undefined);
        await phone.stop().catch(() => undefined);
      }
    },
  );

  it(
    'Sam’s own line names him in its gate: the caller is not asked whom it calls, only his phone rings',
    { timeout: 180_000 },
    async () => {
      const kay = await approvedAccount(
        gw,
        'kay',
        { name: 'Kay Caller', phones: [{ number: '+14155550144', verified: true }] },
        500,
      );
      await gw.apiRequest('PUT', `${GATED}/accounts/${kay.id}/residents/r-2`, {
        status: 'approved',
      });
      const phone = await samsPhone();
      const before = calls.length;
      const ritaInvites = rita.receivedRequests('INVITE').length;
      const caller = await carrier(
        await carrierScenario(work, 'sams-line', ''),
        '4155550144',
        SAMS_LINE,
      );
      try {
        const call = await newCall(before);
        await expect
          .poll(() => gw.gateway.gated.meter.isRunning(call.id), { timeout: 60_000 })
          .toBe(true);
        call.end({ outcome: 'answered', endedBy: 'gateway', reason: 'normal_clearing' });
        const result = await caller.result;
        expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
        expect((await phone.result).stats.successful).toBe(1);
        // (Rechecks of the connected call, every second, may come after these: all allowed.)
        const decisions = await decisionsOf(gw, call.id);
        const shown = decisions.map((d) => [d.stage, d.allowed, d.failed, d.residentId]);
        expect(shown.filter(([stage]) => stage !== 'recheck')).toEqual([
          ['authorize', true, null, 'r-2'],
          ['reverify', true, null, 'r-2'],
        ]);
        for (const d of decisions.filter((r) => r.stage === 'recheck'))
          expect(d.allowed).toBe(true);
        expect(rita.receivedRequests('INVITE').length).toBe(ritaInvites);
        expect(call.record.called).toBe(SAMS_LINE);
      } finally {
        await caller.stop().catch(() => undefined);
        await phone.stop().catch(() => undefined);
      }
    },
  );

  it(
    'a wrong PIN keyed on the resident’s phone, three times: the phone is hung up, the caller refused, nothing charged',
    { timeout: 180_000 },
    async () => {
      const ivy = await gw.apiRequest<{ id: string }>('POST', `${GATED}/accounts`, {
        name: 'Ivy Caller',
        phones: [{ number: '+14155550143', verified: true }],
        ratePerMinute: 10,
      });
      expect(ivy.status).toBe(201);
      await gw.apiRequest('PUT', `${GATED}/accounts/${ivy.body.id}/residents/r-2`, {
        status: 'approved',
      });
      await gw.apiRequest('POST', `${GATED}/accounts/${ivy.body.id}/credits`, {
        amount: 500,
        key: 'seed-ivy',
      });
      const phone = await samsPhone(true);
      const before = calls.length;
      const caller = await carrier(await carrierScenario(work, 'wrong-pin', ''), '4155550143');
      try {
        const call = await newCall(before);
        // The phone is hung up after the third wrong PIN; then the caller (the prompt, the BYE).
        const rang = await phone.result;
        expect(rang.stats.successful, rang.output).toBe(1);
        expect(byeReason(rang.messages), rang.messages).toMatch(/text="callee_not_available"/);
        const result = await caller.result;
        expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
        expect(byeReason(result.messages), result.messages).toMatch(/text="callee_not_available"/);
        await gw.callsEnded(10_000);
        expect(call.record).toMatchObject({ outcome: 'failed', reason: 'callee_not_available' });
        const decisions = await decisionsOf(gw, call.id);
        expect(decisions.map((d) => [d.stage, d.allowed, d.failed])).toEqual([
          ['authorize', true, null],
          ['reverify', false, 'resident_pin'],
          ['reverify', false, 'resident_pin'],
          ['reverify', false, 'resident_pin'],
        ]);
        expect(gw.gateway.gated.meter.isRunning(call.id)).toBe(false);
        const view = await gw.apiRequest<{ balance: number }>(
          'GET',
          `${GATED}/accounts/${ivy.body.id}`,
        );
        expect(view.body.balance).toBe(500);
      } finally {
        await caller.stop().catch(() => undefined);
        await phone.stop().catch(() => undefined);
      }
    },
  );
});
