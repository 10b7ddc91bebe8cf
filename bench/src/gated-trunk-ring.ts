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
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { TENANT, startTestGateway } from '../../gateway/test/harness.js';
import { RawSipClient } from '../../gateway/test/raw-sip.js';
import { PinHasher } from '../../gateway/src/gated/index.js';
import type { SipRequest, SipResponse } from '../../gateway/src/sip/message/index.js';
import { percentile, summarize } from './latency-stats.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '100' } } });
const CALLS = Number(values.calls);
const CARRIER = '127.0.0.2';
const DID = '+14155550177';
const CALLER = '+14155550199';
const base = `/v1/gated/${TENANT}`;

const gw = await startTestGateway({
  agents: [],
  tenantExtra: { gated: {} },
  sipExtra: { digestAlgorithms: ['MD5'] },
  pins: new PinHasher({ logN: 4, r: 8, p: 1 }),
  tenantMaxCalls: 1000,
  config: {
    flows: { 'facility-line': [{ verb: 'hangup' }] },
    trunks: {
      carrier: {
        peers: [{ host: CARRIER }],
        keepAlive: { intervalSeconds: 0 },
        defaultCountry: 'US',
        inbound: { numbers: [{ number: DID, tenant: TENANT, flow: 'facility-line' }] },
      },
    },
  },
});
const carrier = await RawSipClient.open(CARRIER);
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
  const account = await gw.apiRequest<{ id: string }>('POST', `${base}/accounts`, {
    name: 'Grace Hopper',
    phones: [{ number: CALLER, verified: true }],
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
    carrier.send(gw.udp, inDialog('ACK', ok, 1, carrier.port));
    const request = (await phone.waitFor(
      (m) =>
        m.type === 'request' &&
        m.method === 'INVITE' &&
        phone.received.findIndex((r) => r.message === m) >= at,
      10_000,
    )) as SipRequest;
    const ringAt = performance.now();
    if (i >= 10) {
      // The first calls warm the JIT, flite's cache and the prepared statements.
      answered.push(okAt - sentAt);
      ringing.push(ringAt - sentAt);
    }
    phone.send(gw.udp, busy(request));
    carrier.send(gw.udp, inDialog('BYE', ok, 2, carrier.port));
    await carrier.waitFor(
      (m) => m.type === 'response' && m.callId === callId && m.cseq.method === 'BYE',
      10_000,
    );
  }
  const r = (n: number) => n.toFixed(1);
  for (const [what, samples] of [
    ['carrier INVITE → 200 (answered)', answered],
    ['carrier INVITE → device INVITE (ringing)', ringing],
  ] as const) {
    const s = summarize(samples);
    console.log(`${what} (${s.samples} calls, one at a time)`);
    console.log(
      `  p50 ${r(s.p50Ms)} ms  p90 ${r(s.p90Ms)} ms  p95 ${r(
        percentile(
          [...samples].sort((a, b) => a - b),
          95,
        ),
      )} ms  p99 ${r(s.p99Ms)} ms  max ${r(s.maxMs)} ms`,
    );
  }
  console.log(
    `  load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
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

/** An in-dialog request from the carrier, built from the 2xx (RFC 3261 §12.2.1.1). */
function inDialog(method: 'ACK' | 'BYE', ok: SipResponse, cseq: number, port: number): string {
  const contact = ok.headers.get('contact') ?? '';
  return [
    `${method} ${/<([^>]+)>/.exec(contact)?.[1] ?? contact.trim()} SIP/2.0`,
    `Via: SIP/2.0/UDP ${CARRIER}:${port};branch=z9hG4bK-${method}-${cseq}-${ok.callId};rport`,
    `From: ${ok.headers.get('from')}`,
    `To: ${ok.headers.get('to')}`,
    `Call-ID: ${ok.callId}`,
    `CSeq: ${cseq} ${method}`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
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
