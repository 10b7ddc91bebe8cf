/**
 * A phone caller's connected call that a recheck refuses (docs/gated.md,
 * "Phone callers on a DID", step 5): a baresip phone on the carrier's side
 * (127.0.0.2, on the trunk's access list) calls the facility's DID and
 * records what it hears; Rita's phone is sipp (registered with her device's
 * credential: it answers, keys her PIN, echoes). Rechecks run every second.
 *
 * - connected, the rechecks pass; the facility suspends the account: the next
 *   recheck refuses (`account_status`), Rita's phone gets its BYE, the caller
 *   hears the not-available prompt (pocketsphinx finds its words; nothing
 *   says why) and only then, seconds after the refusal, the gateway's BYE with
 *   `Reason: SIP;cause=480;text="callee_not_available"`; the record is
 *   `answered`/`callee_not_available`, the meter stopped for that reason
 *   (counted), nothing charged while the prompt played.
 */
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  runCommand,
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
import type { TestGateway } from './harness.js';
import { GATED, approvedAccount, decisionsOf, startGatedFacility } from './gated-facility.js';
import { RawSipClient } from './raw-sip.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const DID = '+14155550174';
const NOT_AVAILABLE = 'the person you are calling is not available goodbye';

let gw: TestGateway;
let client: RawSipClient;
let work: string;
let device: { sipUser: string; secret: string };
const phones: BaresipAgent[] = [];
const calls: Call[] = [];

/** The meters ended because the Gate refused a connected call, from /metrics. */
async function meterEndsRefused(): Promise<number> {
  const text = await (await fetch(`${gw.gateway.httpUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('parley_gated_meter_ends_total{') &&
        l.includes('reason="callee_not_available"'),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'parley-gated-recheck-'));
  ({ gw, device } = await startGatedFacility(DID, {
    pin: { delayMs: 0 },
    reverifyIntervalSeconds: 1,
  }));
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
  'suspended mid-call: the resident’s phone is hung up, the caller hears the not-available prompt, then the BYE',
  { timeout: 180_000 },
  async () => {
    const account = await approvedAccount(
      gw,
      'paused',
      { name: 'Paused Caller', phones: [{ number: '+14155550161', verified: true }] },
      500,
    );
    const resident = await startSipp({
      scenario: { file: join(FIXTURES, 'sipp-gated-device.xml') },
      calls: 1,
      rtpEcho: true,
      timeoutMs: 150_000,
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
      // The caller's microphone: a quiet tone (echoed by the phone), not loud enough to mask a prompt.
      const source = join(work, 'quiet-800.wav');
      await runCommand('sox', [
        ...['-n', '-r', '8000', '-c', '1', '-b', '16', source],
        ...['synth', '120', 'sine', '800', 'vol', '0.05'],
      ]);
      const phone = await startBaresipAgent({
        user: '4155550161',
        address: CARRIER,
        codecs: ['PCMU'],
        audioSource: source,
      });
      phones.push(phone);
      const before = calls.length;
      const since = phone.mark();
      await phone.dial(`sip:${DID}@${gw.udp}`);
      await phone.waitForEvent('CALL_ESTABLISHED', undefined, 20_000, { since });
      await expect.poll(() => calls.length, { timeout: 10_000 }).toBeGreaterThan(before);
      const call = calls.at(-1)!;
      // Connected (the meter runs) and a recheck passed.
      await expect
        .poll(() => gw.gateway.gated.meter.isRunning(call.id), { timeout: 60_000 })
        .toBe(true);
      await expect
        .poll(async () => (await decisionsOf(gw, call.id)).some((d) => d.stage === 'recheck'), {
          timeout: 20_000,
        })
        .toBe(true);
      const refusedBefore = await meterEndsRefused();

      const suspended = await gw.apiRequest('PATCH', `${GATED}/accounts/${account.id}`, {
        status: 'suspended',
      });
      expect(suspended.status).toBe(200);
      await phone.waitForEvent('CALL_CLOSED', undefined, 60_000, { since });
      const callerHungUp = Date.now();
      await gw.callsEnded(10_000);
      // Rita's phone got its BYE with the one code (sipp's log is read once it exited).
      const rang = await resident.result;
      expect(rang.stats.successful, rang.output).toBe(1);
      expect(rang.messages).toMatch(/^Reason: *SIP;cause=480;text="callee_not_available"/im);
      // The caller's BYE came after the prompt (a few seconds of flite), not with the refusal.
      const refused = (await decisionsOf(gw, call.id)).at(-1);
      expect(refused).toMatchObject({ stage: 'recheck', allowed: false });
      expect(callerHungUp - new Date(refused!.at).getTime()).toBeGreaterThan(1500);
      const bye = phone.receivedRequests('BYE').at(-1);
      expect(bye?.raw).toMatch(/^Reason: *SIP;cause=480;text="callee_not_available"/im);

      const heard = join(work, 'recheck-refused.wav');
      await copyFile(phone.lastRecording().received!, heard);
      const words = await transcribe(heard, { narrowband: true });
      // "not available" is the proof; pocketsphinx reads the rest of this flite
      // sentence differently by CPU (here "the person you are calling" came out as
      // "hurt the lack ali" also on a quiet machine), so three of its words will do.
      expect(wordsFound(NOT_AVAILABLE, words), words).toBeGreaterThanOrEqual(3);
      expect(words).toMatch(/not available/);
      expect(words).not.toMatch(/suspend/);

      expect(call.record).toMatchObject({
        outcome: 'answered',
        endedBy: 'gateway',
        reason: 'callee_not_available',
      });
      const decisions = await decisionsOf(gw, call.id);
      expect(decisions.slice(0, 2).map((d) => [d.stage, d.allowed, d.failed])).toEqual([
        ['authorize', true, null],
        ['reverify', true, null],
      ]);
      expect(decisions.at(-1)).toMatchObject({
        stage: 'recheck',
        allowed: false,
        failed: 'account_status',
      });
      expect(gw.gateway.gated.meter.isRunning(call.id)).toBe(false);
      expect(await meterEndsRefused()).toBe(refusedBefore + 1);
    } finally {
      await resident.stop().catch(() => undefined);
    }
  },
);
