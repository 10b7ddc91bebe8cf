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
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { TENANT, startTestGateway } from '../../gateway/test/harness.js';
import { RawSipClient, inviteText } from '../../gateway/test/raw-sip.js';
import { PinHasher } from '../../gateway/src/gated/index.js';
import type { SipRequest } from '../../gateway/src/sip/message/index.js';
import { percentile, summarize } from './latency-stats.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '200' } } });
const CALLS = Number(values.calls);
const base = `/v1/gated/${TENANT}`;

const gw = await startTestGateway({
  agents: [],
  tenantExtra: { gated: {} },
  sipExtra: { digestAlgorithms: ['MD5'] },
  pins: new PinHasher({ logN: 4, r: 8, p: 1 }),
  tenantMaxCalls: 1000,
});
const visitor = await RawSipClient.open();
const phone = await RawSipClient.open();
try {
  const made = await gw.apiRequest<{ credential: { sipUser: string; secret: string } }>(
    'PUT',
    `${base}/devices/cell-1`,
    { kind: 'sip' },
  );
  const { sipUser, secret } = made.body.credential;
  await gw.apiRequest('PUT', `${base}/residents/r-1`, {
    name: 'Rita',
    pin: '2468',
    devices: ['cell-1'],
  });
  const account = await gw.apiRequest<{ id: string; number: string }>('POST', `${base}/accounts`, {
    name: 'Grace Hopper',
    phones: [],
  });
  await gw.apiRequest('PUT', `${base}/accounts/${account.body.id}/residents/r-1`, {
    status: 'approved',
  });
  await gw.apiRequest('POST', `${base}/accounts/${account.body.id}/credits`, {
    amount: 1_000_000,
    key: 'seed',
  });
  const reg = await phone.register(
    gw.udp,
    sipUser,
    secret,
    [`<sip:${sipUser}@127.0.0.1:${phone.port}>`],
    [],
    'MD5',
  );
  if (reg.status !== 200) throw new Error(`REGISTER answered ${reg.status}`);

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
    const token = await gw.token({ privateClaims: { account: account.body.number } });
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
    const invite = (await phone.waitFor(
      (m) =>
        m.type === 'request' &&
        m.method === 'INVITE' &&
        phone.received.findIndex((r) => r.message === m) >= at,
      10_000,
    )) as SipRequest;
    const ms = performance.now() - sentAt;
    if (i >= 10) samples.push(ms); // the first calls warm the JIT and the prepared statements
    phone.send(gw.udp, busy(invite));
    await visitor.waitFor(
      (m) => m.type === 'response' && m.callId === callId && m.status >= 300,
      10_000,
    );
  }
  const s = summarize(samples);
  const r = (n: number) => n.toFixed(1);
  console.log(`gated set-up, visitor INVITE → device INVITE (${s.samples} calls, one at a time)`);
  console.log(
    `  p50 ${r(s.p50Ms)} ms  p90 ${r(s.p90Ms)} ms  p95 ${r(
      percentile(
        [...samples].sort((a, b) => a - b),
        95,
      ),
    )} ms  p99 ${r(s.p99Ms)} ms  max ${r(s.maxMs)} ms`,
  );
  console.log(
    `  load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  visitor.close();
  phone.close();
  await gw.close();
}

/** The device's 486 to the gateway's INVITE (RFC 3261 §8.2.6: Via, From, To, Call-ID, CSeq copied). */
function busy(request: SipRequest): string {
  return [
    'SIP/2.0 486 Busy Here',
    ...request.headers.getLines('via').map((v) => `Via: ${v}`),
    `From: ${request.headers.get('from')}`,
    `To: ${request.headers.get('to')};tag=busy`,
    `Call-ID: ${request.callId}`,
    `CSeq: ${request.headers.get('cseq')}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
