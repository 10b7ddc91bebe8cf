/**
 * Early media from an agent who is a telephone number (`agents[].phone`,
 * calls/trunk-agent-leg.ts), on real peers: a SIP visitor with a call token
 * (our raw SIP client, with an RTP socket that keeps what it hears and when)
 * calls a queue whose only agent is a number; the trunk's far end is sipp
 * (127.0.0.3), which answers 183 with SDP, streams a 1 kHz PCMU tone from
 * then on, and answers 200 two seconds later. The visitor must get a 183
 * with the gateway's SDP and hear the tone before its 200, then the 200 on
 * the same media (what dial-phone-early.sipp.test.ts shows for a flow's
 * `dial` of a number).
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipResponse } from '../src/sip/message/index.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';
import { ackText, inDialogText, isFinal, isResponse } from './raw-call.js';
import { RawSipClient, inviteText } from './raw-sip.js';
import { carrierTrunk, phoneAgent } from './carrier.js';
import { expectEarlyToneBefore200 } from './early-tone.js';
import { RtpVisitor } from './rtp-visitor.js';
import { transactionsIn } from './sipp-log.js';

const CALLEE = '127.0.0.3';
const NUMBER = '+14155550140';

const ports = new PortAllocator();
let block: PortBlock;
let gw: TestGateway;
let client: RawSipClient;

beforeAll(async () => {
  block = await ports.allocate(1, { protocols: ['udp'] });
  client = await RawSipClient.open();
  gw = await startTestGateway({
    config: {
      trunks: {
        out: carrierTrunk({ host: CALLEE, port: block.base }),
      },
      queues: { mobiles: { tenant: TENANT, ringTimeoutSeconds: 20 } },
      agents: [phoneAgent('ada', NUMBER, 'out', ['mobiles'])],
    },
  });
});

afterAll(async () => {
  client?.close();
  await gw?.close();
  block?.release();
  await stopAll();
});

describe.skipIf(!sippAvailable())(
  'an agent who is a number whose network plays early media',
  () => {
    it("the visitor gets a 183 with the gateway's SDP and hears the carrier's tone before the 200", async () => {
      const sipp = await startSipp({
        scenario: await bundledScenario('uas-carrier-early-tone'),
        address: CALLEE,
        localPort: block.base,
        traceMessages: true,
      });
      const ear = await RtpVisitor.open('PCMU');
      try {
        const token = await gw.token({ subject: 'web-sess-phone-early', scope: 'queue:mobiles' });
        const callId = `phone-early-${Date.now()}`;
        client.send(
          gw.udp,
          inviteText({
            to: `mobiles@${gw.udp}`,
            port: client.port,
            callId,
            headers: [`Authorization: Bearer ${token}`],
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
        await expectEarlyToneBefore200({
          client,
          ear,
          early,
          ok,
          carrierMediaPort: sipp.mediaPort,
        });

        // The visitor hangs up: the carrier gets the BYE.
        client.send(gw.udp, inDialogText(client, ok, 'BYE', 2));
        await client.waitFor(isResponse(200, 'BYE', callId), 10_000);
        await gw.callsEnded();
        const log = (await sipp.stop()).messages;
        const [invite, ...more] = transactionsIn(log, 'INVITE');
        expect(more).toEqual([]);
        expect(invite?.startLine).toBe(`INVITE sip:${NUMBER}@${CALLEE}:${block.base} SIP/2.0`);
        expect(transactionsIn(log, 'BYE')).toHaveLength(1);

        const record = await until(
          async () =>
            (await gw.gateway.callStore.listRecent(5)).find(
              (r) => r.sessionId === 'web-sess-phone-early' && r.state === 'ended',
            ),
          'the ended call record',
        );
        expect(record).toMatchObject({ outcome: 'answered', agentId: 'ada' });
        expect(record.attempts).toEqual([
          expect.objectContaining({ agentId: 'ada', via: 'trunk:out' }),
        ]);
      } finally {
        ear.close();
        await sipp.stop();
      }
    });
  },
);
