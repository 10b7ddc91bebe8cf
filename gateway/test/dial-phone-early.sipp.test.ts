/**
 * Early media through a trunk (issue 10: outbound calls "pass early media
 * (183) to the caller"), on real peers: a DID caller (our raw SIP client at
 * the carrier's address, 127.0.0.2, with an RTP socket that keeps what it
 * hears and when) runs a flow whose `dial` calls a number through a trunk
 * whose far end is sipp (127.0.0.3). sipp answers 183 with SDP, streams a
 * 1 kHz PCMU tone from then on, and answers 200 two seconds later. The
 * caller must get a 183 with the gateway's SDP and hear the tone before its
 * 200, then the 200 on the same media. (Busy, no answer, hang-up while
 * ringing: dial-phone.sipp.test.ts; audio both ways once answered:
 * flow-dial.baresip.test.ts.)
 */
import {
  PortAllocator,
  bundledScenario,
  sippAvailable,
  startSipp,
  stopAll,
  until,
  type PortBlock,
} from '@parley/testkit';
import type { FlowEvent } from '@parley/shared/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipResponse } from '../src/sip/message/index.js';
import { CARRIER } from './carrier.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';
import { ackText, inDialogText, isFinal, isResponse } from './raw-call.js';
import { RawSipClient, inviteText } from './raw-sip.js';
import { expectEarlyToneBefore200 } from './early-tone.js';
import { RtpVisitor } from './rtp-visitor.js';
import { requestsIn, transactionsIn } from './sipp-log.js';

const CALLEE = '127.0.0.3';
const DID = '+14155550161';
const NUMBER = '+14155550100';
const CALLER_ID = '+14155550111';

const ports = new PortAllocator();
let block: PortBlock;
let gw: TestGateway;
let client: RawSipClient;

beforeAll(async () => {
  block = await ports.allocate(1, { protocols: ['udp'] });
  client = await RawSipClient.open(CARRIER);
  gw = await startTestGateway({
    config: {
      flows: {
        'to-number': [
          {
            verb: 'dial',
            target: { type: 'phone', number: NUMBER, trunk: 'out' },
            callerId: CALLER_ID,
            timeout: 20,
          },
          { verb: 'hangup' },
        ],
      },
      trunks: {
        out: {
          peers: [{ host: CALLEE, port: block.base }],
          keepAlive: { intervalSeconds: 0 },
          defaultCountry: 'US',
          inbound: {
            allow: [CARRIER],
            numbers: [{ number: DID, tenant: TENANT, flow: 'to-number' }],
          },
        },
      },
    },
  });
});

afterAll(async () => {
  client?.close();
  await gw?.close();
  block?.release();
  await stopAll();
});

describe.skipIf(!sippAvailable())('a flow dials a number whose network plays early media', () => {
  it("the caller gets a 183 with the gateway's SDP and hears the carrier's tone before the 200", async () => {
    const sipp = await startSipp({
      scenario: await bundledScenario('uas-carrier-early-tone'),
      address: CALLEE,
      localPort: block.base,
      traceMessages: true,
    });
    const ear = await RtpVisitor.open('PCMU');
    try {
      const callId = `early-${Date.now()}`;
      client.send(
        gw.udp,
        inviteText({
          to: `${DID}@${gw.udp}`,
          port: client.port,
          host: CARRIER,
          from: '+14155550199',
          callId,
          sdp: ear.sdp(),
        }),
      );
      const early = (await client.waitFor(
        isResponse(183, 'INVITE', callId),
        10_000,
      )) as SipResponse;
      const ok = (await client.waitFor(isFinal(callId), 20_000)) as SipResponse;
      expect(ok.status).toBe(200);
      client.send(gw.udp, ackText(client, ok));
      await expectEarlyToneBefore200({ client, ear, early, ok, carrierMediaPort: sipp.mediaPort });

      // And it goes on after the answer, on the same media.
      const before = ear.arrivals.get(0)?.length ?? 0;
      await until(
        () => (ear.arrivals.get(0)?.length ?? 0) >= before + 25,
        'the tone after the answer',
        10_000,
        50,
      );

      // The caller hangs up: the carrier gets the BYE.
      client.send(gw.udp, inDialogText(client, ok, 'BYE', 2));
      await client.waitFor(isResponse(200, 'BYE', callId), 10_000);
      await until(
        () => requestsIn(sipp.messages(), 'BYE').length > 0,
        'the BYE at the carrier',
        10_000,
        50,
      );
      await gw.callsEnded();
      const log = (await sipp.stop()).messages;
      const [invite, ...more] = transactionsIn(log, 'INVITE');
      expect(more).toEqual([]);
      expect(invite?.startLine).toBe(`INVITE sip:${NUMBER}@${CALLEE}:${block.base} SIP/2.0`);
      expect(invite?.body).toMatch(/^m=audio \d+ RTP\/AVP 0\b/m);
      expect(transactionsIn(log, 'ACK')).toHaveLength(1);

      // The flow's dial was answered by the number, and the call is stored as the caller ended it.
      const record = (await gw.gateway.callStore.listRecent(5)).find((r) => r.called === DID);
      const dial = (await gw.gateway.telephony.events.list(record?.id ?? '')).find(
        (e): e is Extract<FlowEvent, { type: 'verb.result' }> =>
          e.type === 'verb.result' && e.verb === 'dial',
      );
      expect(dial?.result).toMatchObject({ status: 'answered' });
      expect(record).toMatchObject({
        channel: 'phone',
        called: DID,
        flow: 'to-number',
        endedBy: 'visitor',
      });
    } finally {
      ear.close();
      await sipp.stop();
    }
  });
});
