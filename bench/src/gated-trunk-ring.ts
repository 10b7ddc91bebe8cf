/**
 * Gated call set-up for a phone caller (issue #14): a carrier (a raw UDP
 * client at 127.0.0.2, the trunk's peer) calls a gated facility's DID from a
 * number that is a verified number of an account; the gateway answers it
 * (the telephony core: admitted, answered with PCMU, media applications
 * attached), the Gate authorises it by that number (built in, SQLite, the
 * decision stored), and the resident's SIP device (a raw UDP client
 * registered with its device credential) receives its INVITE. Measured per
 * call: the carrier's INVITE → its 200 (answered), and the carrier's INVITE →
 * the device's INVITE (ringing). The figure is answered → ringing
 * (goal p95 ≤ 300 ms); the gateway runs in this process, so the two arrivals
 * are read in whatever order the event loop gets to them, and only the whole
 * INVITE → ringing (an upper bound of answered → ringing) is a sound figure.
 * The device answers 486 and the caller hangs up, one call at a time; the
 * first 10 calls are not counted.
 *
 *   ./scripts/in-netns.sh node --import tsx bench/src/gated-trunk-ring.ts [--calls 100]
 */
import { parseArgs } from 'node:util';
import { TENANT } from '../../gateway/test/harness.js';
import { ackText, inDialogText } from '../../gateway/test/raw-call.js';
import { RawSipClient } from '../../gateway/test/raw-sip.js';
import type { SipResponse } from '../../gateway/src/sip/message/index.js';
import {
  busy,
  deviceInvite,
  printLatency,
  printLoad,
  seedFacility,
  startGatedGateway,
} from './gated-facility.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '100' } } });
const CALLS = Number(values.calls);
const CARRIER = '127.0.0.2';
const DID = '+14155550177';
const CALLER = '+14155550199';

const gw = await startGatedGateway({
  // The DID's flow: the gate alone (the flow runner's own cost is in the figures).
  flows: { 'facility-line': [{ verb: 'gate' }] },
  trunks: {
    carrier: {
      peers: [{ host: CARRIER }],
      keepAlive: { intervalSeconds: 0 },
      defaultCountry: 'US',
      inbound: { numbers: [{ number: DID, tenant: TENANT, flow: 'facility-line' }] },
    },
  },
});
const carrier = await RawSipClient.open(CARRIER);
const phone = await RawSipClient.open();
try {
  await seedFacility(gw, phone, [{ number: CALLER, verified: true }]);

  const answered: number[] = [];
  const ringing: number[] = [];
  for (let i = 0; i < CALLS + 10; i += 1) {
    const callId = `bench-gated-trunk-${i}-${Date.now()}`;
    const at = phone.received.length;
    const sentAt = performance.now();
    carrier.send(gw.udp, invite(callId, carrier.port));
    const ok = (await carrier.waitFor(
      (m) => m.type === 'response' && m.callId === callId && m.status >= 200,
      10_000,
    )) as SipResponse;
    const okAt = performance.now();
    if (ok.status !== 200) throw new Error(`the DID answered ${ok.status}`);
    carrier.send(gw.udp, ackText(carrier, ok));
    const request = await deviceInvite(phone, at);
    const ringAt = performance.now();
    if (i >= 10) {
      // The first calls warm the JIT, flite's cache and the prepared statements.
      answered.push(okAt - sentAt);
      ringing.push(ringAt - sentAt);
    }
    busy(phone, gw, request);
    carrier.send(gw.udp, inDialogText(carrier, ok, 'BYE', 2));
    await carrier.waitFor(
      (m) => m.type === 'response' && m.callId === callId && m.cseq.method === 'BYE',
      10_000,
    );
  }
  printLatency('carrier INVITE → 200 (answered)', answered);
  printLatency('carrier INVITE → device INVITE (ringing)', ringing);
  printLoad();
} finally {
  carrier.close();
  phone.close();
  await gw.close();
}

/** The carrier's INVITE to the DID from the account's verified number (PCMU, telephone-event). */
function invite(callId: string, port: number): string {
  const sdp = [
    'v=0',
    `o=carrier 1 1 IN IP4 ${CARRIER}`,
    's=-',
    `c=IN IP4 ${CARRIER}`,
    't=0 0',
    `m=audio ${port + 2} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
  return [
    `INVITE sip:${DID}@${gw.udp} SIP/2.0`,
    `Via: SIP/2.0/UDP ${CARRIER}:${port};branch=z9hG4bK-${callId};rport`,
    `From: <sip:${CALLER}@${CARRIER}:${port}>;tag=c-${callId}`,
    `To: <sip:${DID}@${gw.udp}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:${CALLER.slice(1)}@${CARRIER}:${port}>`,
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n');
}
