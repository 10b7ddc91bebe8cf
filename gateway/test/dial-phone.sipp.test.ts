/**
 * The `dial-phone` adapter (`calls/flow/dial-phone.ts`) when the number does
 * not answer, on real peers: a DID caller (a baresip phone at the carrier's
 * address, 127.0.0.2) runs a flow whose `dial` calls a number through a
 * trunk whose far end is sipp (127.0.0.3) answering busy, or ringing for
 * ever. What the far end received is read from sipp's own message trace (the
 * INVITE the adapter built, the ACK of its 486, the CANCEL when the ring
 * timeout or the caller gives up); what the flow got is the stored `dial`
 * result. (The answered case, audio both ways: flow-dial.baresip.test.ts.)
 */
import {
  PortAllocator,
  bundledScenario,
  sippAvailable,
  startBaresipAgent,
  startSipp,
  stopAll,
  until,
  type BaresipAgent,
  type PortBlock,
  type SippInstance,
} from '@parley/testkit';
import type { FlowEvent } from '@parley/shared/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';
import { transactionsIn } from './sipp-log.js';

const CARRIER = '127.0.0.2';
const CALLEE = '127.0.0.3';
const CALLER = '+14155550199';
const NUMBER = '+14155550100';
const CALLER_ID = '+14155550111';
const DIDS = { busy: '+14155550152', noAnswer: '+14155550153', hangsUp: '+14155550154' };

const ports = new PortAllocator();
const held: PortBlock[] = [];
const at: Record<'busy' | 'ring', number> = { busy: 0, ring: 0 };
let gw: TestGateway;
let caller: BaresipAgent;

/** A flow that dials NUMBER through `trunk`, then hangs up. */
const dialThen = (trunk: string, timeout: number) => [
  {
    verb: 'dial' as const,
    target: { type: 'phone' as const, number: NUMBER, trunk },
    callerId: CALLER_ID,
    timeout,
  },
  { verb: 'hangup' as const },
];
const trunk = (port: number) => ({
  peers: [{ host: CALLEE, port }],
  keepAlive: { intervalSeconds: 0 },
  defaultCountry: 'US',
});

beforeAll(async () => {
  for (const name of ['busy', 'ring'] as const) {
    const block = await ports.allocate(1, { protocols: ['udp'] });
    held.push(block);
    at[name] = block.base;
  }
  caller = await startBaresipAgent({ user: CALLER.slice(2), address: CARRIER, codecs: ['PCMU'] });
  gw = await startTestGateway({
    config: {
      flows: {
        'to-busy': dialThen('busy', 20),
        'to-silent': dialThen('ring', 2),
        'to-ringing': dialThen('ring', 60),
      },
      trunks: {
        busy: {
          ...trunk(at.busy),
          inbound: {
            allow: [CARRIER],
            numbers: [
              { number: DIDS.busy, tenant: TENANT, flow: 'to-busy' },
              { number: DIDS.noAnswer, tenant: TENANT, flow: 'to-silent' },
              { number: DIDS.hangsUp, tenant: TENANT, flow: 'to-ringing' },
            ],
          },
        },
        ring: trunk(at.ring),
      },
    },
  });
});

afterAll(async () => {
  await caller?.stop();
  await gw?.close();
  for (const block of held.splice(0)) block.release();
  await stopAll();
});

/** The far end: sipp on `port` of the callee's address, tracing what it receives. */
async function farEnd(
  port: number,
  scenario: 'uas-busy-486' | 'uas-ring-no-answer',
): Promise<SippInstance> {
  return startSipp({
    scenario: await bundledScenario(scenario),
    address: CALLEE,
    localPort: port,
    traceMessages: true,
  });
}

/** The stored record of the call to `did` (the newest), then its `dial` verb's stored result. */
async function dialResult(did: string): Promise<{ callId: string; result: unknown }> {
  const callId = await until(
    async () => (await gw.gateway.callStore.listRecent(5)).find((r) => r.called === did)?.id,
    `the call to ${did}`,
    20_000,
    100,
  );
  const event = await until(
    async () =>
      (await gw.gateway.telephony.events.list(callId)).find(
        (e): e is Extract<FlowEvent, { type: 'verb.result' }> =>
          e.type === 'verb.result' && e.verb === 'dial',
      ),
    `the dial verb's result of ${callId}`,
    30_000,
    100,
  );
  return { callId, result: event.result };
}

describe.skipIf(!sippAvailable())('a flow dials a number that does not answer (sipp)', () => {
  it('busy: the INVITE carries the number, caller ID and call id; the 486 is ACKed; the flow gets busy and the SIP status', async () => {
    const sipp = await farEnd(at.busy, 'uas-busy-486');
    const since = caller.mark();
    await caller.dial(`sip:${DIDS.busy}@${gw.udp}`);
    const { callId, result } = await dialResult(DIDS.busy);
    expect(result).toMatchObject({ status: 'busy', sipStatus: 486 });
    await caller.waitForEvent('CALL_CLOSED', undefined, 20_000, { since });
    await gw.callsEnded();

    const log = (await sipp.stop()).messages;
    const [invite, ...more] = transactionsIn(log, 'INVITE');
    expect(more).toEqual([]);
    expect(invite?.startLine).toBe(`INVITE sip:${NUMBER}@${CALLEE}:${at.busy} SIP/2.0`);
    expect(invite?.header('from')).toContain(`<sip:${CALLER_ID}@`);
    expect(invite?.header('p-asserted-identity')).toContain(`sip:${CALLER_ID}@`);
    expect(invite?.header('x-parley-call')).toBe(callId);
    // One hop more than the caller's INVITE (baresip sends 70).
    expect(invite?.header('max-forwards')).toBe('69');
    // A plain RTP offer of the caller's codec, whatever the caller's leg is.
    expect(invite?.body).toMatch(/^m=audio \d+ RTP\/AVP 0\b/m);
    expect(invite?.body).toMatch(/^c=IN IP4 127\.0\.0\.1/m);
    expect(transactionsIn(log, 'ACK')).toHaveLength(1);
    expect(transactionsIn(log, 'CANCEL')).toEqual([]);

    expect(await gw.gateway.callStore.get(callId)).toMatchObject({
      channel: 'phone',
      called: DIDS.busy,
      flow: 'to-busy',
    });
  });

  it("no answer within the dial's timeout: the number gets a CANCEL, the flow gets no-answer", async () => {
    const sipp = await farEnd(at.ring, 'uas-ring-no-answer');
    const since = caller.mark();
    const started = Date.now();
    await caller.dial(`sip:${DIDS.noAnswer}@${gw.udp}`);
    const { result } = await dialResult(DIDS.noAnswer);
    expect(result).toMatchObject({ status: 'no-answer' });
    // The timeout is the dial's (2 s), not the trunk's or the caller's.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - started).toBeLessThan(15_000);
    await caller.waitForEvent('CALL_CLOSED', undefined, 20_000, { since });
    await gw.callsEnded();

    const log = (await sipp.stop()).messages;
    const [invite] = transactionsIn(log, 'INVITE');
    const [cancel, ...more] = transactionsIn(log, 'CANCEL');
    expect(more).toEqual([]);
    // RFC 3261 §9.1: the CANCEL's Request-URI and Call-ID are the INVITE's.
    expect(cancel?.startLine).toBe(invite?.startLine.replace(/^INVITE/, 'CANCEL'));
    expect(cancel?.header('call-id')).toBe(invite?.header('call-id'));
    // The 487 that ends the INVITE is ACKed.
    expect(transactionsIn(log, 'ACK')).toHaveLength(1);
  });

  it('the caller hangs up while the number rings: the number gets a CANCEL, the flow ends canceled', async () => {
    const sipp = await farEnd(at.ring, 'uas-ring-no-answer');
    const since = caller.mark();
    await caller.dial(`sip:${DIDS.hangsUp}@${gw.udp}`);
    // The number is ringing (sipp answered 180) when the caller gives up.
    await until(
      () => transactionsIn(sipp.messages(), 'INVITE').length > 0,
      'the INVITE at the number',
      20_000,
      50,
    );
    await caller.hangup();
    await caller.waitForEvent('CALL_CLOSED', undefined, 20_000, { since });
    const cancelled = await until(
      () => transactionsIn(sipp.messages(), 'CANCEL')[0],
      'the CANCEL at the number',
      10_000,
      50,
    );
    expect(cancelled.header('call-id')).toBe(
      transactionsIn(sipp.messages(), 'INVITE')[0]?.header('call-id'),
    );
    const { callId, result } = await dialResult(DIDS.hangsUp);
    expect(result).toMatchObject({ status: 'canceled' });
    await gw.callsEnded();
    await sipp.stop();
    expect(await gw.gateway.callStore.get(callId)).toMatchObject({
      flow: 'to-ringing',
      endedBy: 'visitor',
    });
  });
});
