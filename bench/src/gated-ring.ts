/**
 * Gated call set-up (issue #14): how long from a visitor's INVITE reaching
 * the gateway to the resident's device receiving its INVITE (ringing), for a
 * SIP visitor of a gated facility whose token names an account: the SBC
 * pipeline, the call's media, the Gate's `authorize` (built in, SQLite, the
 * decision stored), and the device's leg. The device is a raw UDP client
 * registered with its device credential; it answers 486, so each call ends
 * (480 to the visitor) before the next starts. One call at a time.
 *
 * The figure is "caller answered → resident device ringing" for a
 * phone caller through a trunk (its leg answered, then authorised); that path
 * is not wired yet, and this measures the same work minus the trunk's answer.
 *
 *   ./scripts/in-netns.sh node --import tsx bench/src/gated-ring.ts [--calls 200]
 */
import { parseArgs } from 'node:util';
import { RawSipClient, inviteText } from '../../gateway/test/raw-sip.js';
import {
  busy,
  deviceInvite,
  printLatency,
  printLoad,
  seedFacility,
  startGatedGateway,
} from './gated-facility.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '200' } } });
const CALLS = Number(values.calls);

const gw = await startGatedGateway();
const visitor = await RawSipClient.open();
const phone = await RawSipClient.open();
try {
  const { accountNumber } = await seedFacility(gw, phone);
  const sdp = [
    'v=0',
    'o=visitor 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${visitor.port + 2} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
  const samples: number[] = [];
  for (let i = 0; i < CALLS + 10; i += 1) {
    const callId = `bench-gated-${i}-${Date.now()}`;
    const token = await gw.token({ privateClaims: { account: accountNumber } });
    const at = phone.received.length;
    const sentAt = performance.now();
    visitor.send(
      gw.udp,
      inviteText({
        to: `sales@${gw.udp}`,
        port: visitor.port,
        callId,
        headers: [`Authorization: Bearer ${token}`],
        sdp,
      }),
    );
    const invite = await deviceInvite(phone, at);
    const ms = performance.now() - sentAt;
    if (i >= 10) samples.push(ms); // the first calls warm the JIT and the prepared statements
    busy(phone, gw, invite);
    await visitor.waitFor(
      (m) => m.type === 'response' && m.callId === callId && m.status >= 300,
      10_000,
    );
  }
  printLatency('gated set-up, visitor INVITE → device INVITE', samples);
  printLoad();
} finally {
  visitor.close();
  phone.close();
  await gw.close();
}
