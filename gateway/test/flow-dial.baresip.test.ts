/**
 * A DID's flow dials a phone number through the trunk, and a SIP URI: real
 * phones at every end. The caller is a baresip phone at the carrier's
 * address (127.0.0.2, on the trunk's `inbound.allow`) sending a 1 kHz tone;
 * the number's phone is a baresip at the trunk's peer (127.0.0.3) sending
 * 800 Hz; the SIP URI's phone a baresip at 127.0.0.4 sending 600 Hz. Each
 * end must hear the other's tone (audio both ways through the bridge), the
 * number's phone must get the INVITE the trunk builds (E.164 Request-URI,
 * the caller ID in From), and the record and flow events say who answered.
 */
import {
  analyse,
  startBaresipAgent,
  stopAll,
  type AudioAnalysis,
  type BaresipAgent,
  until,
} from '@parley/testkit';
import type { FlowEvent } from '@parley/shared/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';

const CARRIER = '127.0.0.2';
const CALLEE = '127.0.0.3';
const SIP_PHONE = '127.0.0.4';
const DID_PHONE = '+14155550142';
const DID_SIP = '+14155550143';
const NUMBER = '+14155550100';
const CALLER_ID = '+14155550111';

let gw: TestGateway;
let caller: BaresipAgent;
let callee: BaresipAgent;
let sipPhone: BaresipAgent;

beforeAll(async () => {
  [caller, callee, sipPhone] = await Promise.all([
    startBaresipAgent({ user: '4155550199', address: CARRIER, codecs: ['PCMU'], toneHz: 1000 }),
    startBaresipAgent({ user: NUMBER, address: CALLEE, codecs: ['PCMU'], toneHz: 800 }),
    startBaresipAgent({ user: 'bob', address: SIP_PHONE, codecs: ['PCMU'], toneHz: 600 }),
  ]);
  gw = await startTestGateway({
    config: {
      flows: {
        'to-phone': [
          { verb: 'dial', target: { type: 'phone', number: NUMBER }, callerId: CALLER_ID },
        ],
        'to-sip': [
          {
            verb: 'dial',
            target: { type: 'sip', uri: `sip:bob@${sipPhone.address}:${sipPhone.listenPort}` },
          },
        ],
      },
      trunks: {
        carrier: {
          peers: [{ host: CALLEE, port: callee.listenPort }],
          keepAlive: { intervalSeconds: 0 },
          defaultCountry: 'US',
          inbound: {
            allow: [CARRIER],
            numbers: [
              { number: DID_PHONE, tenant: TENANT, flow: 'to-phone' },
              { number: DID_SIP, tenant: TENANT, flow: 'to-sip' },
            ],
          },
        },
      },
    },
  });
});
afterAll(async () => {
  await Promise.all([caller?.stop(), callee?.stop(), sipPhone?.stop()]);
  await gw?.close();
  await stopAll();
});

/**
 * Waits until the caller's transport on the gateway received `packets` RTP
 * packets from the caller and sent it as many from the far end (the bridge).
 */
async function audioBothWays(packets: number): Promise<string> {
  return until(
    () => {
      const [call] = gw.gateway.calls.list();
      const stats = call?.caller.media?.stats();
      return call && stats && stats.packetsIn >= packets && stats.packetsOut >= packets && call.id;
    },
    `${packets} RTP packets each way on the caller's transport`,
    20_000,
    100,
  );
}

async function heard(phone: BaresipAgent): Promise<AudioAnalysis> {
  const { received } = phone.lastRecording();
  expect(received).toBeDefined();
  return analyse(received!);
}

function expectTone(analysis: AudioAnalysis, hz: number): void {
  expect(analysis.rms).toBeGreaterThan(0.05);
  expect(analysis.roughFrequencyHz).toBeGreaterThan(hz * 0.9);
  expect(analysis.roughFrequencyHz).toBeLessThan(hz * 1.1);
}

async function dialResult(callId: string): Promise<unknown> {
  const result = await until(
    async () =>
      (await gw.gateway.telephony.events.list(callId)).find(
        (e): e is Extract<FlowEvent, { type: 'verb.result' }> =>
          e.type === 'verb.result' && e.verb === 'dial',
      ),
    `the dial verb's result of ${callId}`,
    20_000,
    100,
  );
  return result.result;
}

describe('a flow dials out', () => {
  it('to a phone number through the trunk: the number rings with the caller ID, audio both ways', async () => {
    const since = { caller: caller.mark(), callee: callee.mark() };
    await caller.dial(`sip:${DID_PHONE}@${gw.udp}`);
    await callee.waitForEvent('CALL_ESTABLISHED', undefined, 20_000, { since: since.callee });
    await caller.waitForEvent('CALL_ESTABLISHED', undefined, 20_000, { since: since.caller });
    const callId = await audioBothWays(150);

    const invite = callee.receivedRequests('INVITE').at(-1)!;
    expect(invite.raw.split('\r\n')[0]).toBe(
      `INVITE sip:${NUMBER}@${CALLEE}:${callee.listenPort} SIP/2.0`,
    );
    expect(invite.header('from')).toContain(`sip:${CALLER_ID}@`);
    expect(invite.header('x-parley-call')).toBe(callId);

    await caller.hangup();
    await callee.waitForEvent('CALL_CLOSED', undefined, 20_000, { since: since.callee });
    expectTone(await heard(caller), 800);
    expectTone(await heard(callee), 1000);
    expect(await dialResult(callId)).toMatchObject({ status: 'answered' });
    await gw.callsEnded();
    const record = await gw.gateway.callStore.get(callId);
    expect(record).toMatchObject({
      channel: 'phone',
      called: DID_PHONE,
      callerNumber: '+14155550199',
      flow: 'to-phone',
      outcome: 'answered',
      endedBy: 'visitor',
    });
  });

  it('to a SIP URI: the phone at the URI rings, audio both ways', async () => {
    const since = { caller: caller.mark(), phone: sipPhone.mark() };
    await caller.dial(`sip:${DID_SIP}@${gw.udp}`);
    await sipPhone.waitForEvent('CALL_ESTABLISHED', undefined, 20_000, { since: since.phone });
    await caller.waitForEvent('CALL_ESTABLISHED', undefined, 20_000, { since: since.caller });
    const callId = await audioBothWays(150);

    const invite = sipPhone.receivedRequests('INVITE').at(-1)!;
    expect(invite.raw.split('\r\n')[0]).toMatch(/^INVITE sip:bob@127\.0\.0\.4:\d+ SIP\/2\.0$/);

    await sipPhone.hangup();
    await caller.waitForEvent('CALL_CLOSED', undefined, 20_000, { since: since.caller });
    expectTone(await heard(caller), 600);
    expectTone(await heard(sipPhone), 1000);
    expect(await dialResult(callId)).toMatchObject({ status: 'answered' });
  });
});
