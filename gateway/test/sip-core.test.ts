/**
 * The gateway's SIP core on the wire, with bare UDP sockets for every party
 * (visitor, a proxy on the visitor's path, the agent's phone) and T1 = 100 ms:
 * Record-Route and the route set (RFC 3261 §12.1.1, §12.2.1.1), Max-Forwards
 * (§16.3), the INVITE client timers A and B (§17.1.1.2), the non-INVITE
 * client timers E and F (§17.1.2.2) and the UAS's 2xx retransmission until the
 * ACK (§13.3.1.4).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createResponse,
  formatUri,
  serialize,
  type SipRequest,
  type SipResponse,
} from '../src/sip/message/index.js';
import { startTestGateway, type TestGateway } from './harness.js';
import { RawSipClient, inviteText } from './raw-sip.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const sdp = (port: number, version = 1) =>
  [
    'v=0',
    `o=- ${version} ${version} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    '',
  ].join('\r\n');

const isRequest =
  (method: string, callId?: string) =>
  (m: SipRequest | SipResponse): boolean =>
    m.type === 'request' && m.method === method && (callId === undefined || m.callId === callId);

const isResponse =
  (status: number, method = 'INVITE') =>
  (m: SipRequest | SipResponse): boolean =>
    m.type === 'response' && m.status === status && m.cseq.method === method;

/** Everything a test opened, closed after it whatever happens. */
let open: { gw?: TestGateway; clients: RawSipClient[] } = { clients: [] };
afterEach(async () => {
  for (const client of open.clients) client.close();
  await open.gw?.close();
  open = { clients: [] };
});

/** A gateway whose only agent is a fixed contact: the `agent` socket. */
async function setUp(): Promise<{
  gw: TestGateway;
  visitor: RawSipClient;
  agent: RawSipClient;
  proxy: RawSipClient;
}> {
  const [visitor, agent, proxy] = await Promise.all([
    RawSipClient.open(),
    RawSipClient.open(),
    RawSipClient.open(),
  ]);
  open.clients.push(visitor, agent, proxy);
  const gw = await startTestGateway({
    agents: [{ id: 'agent1', contact: `sip:agent1@127.0.0.1:${agent.port}` }],
    maxAttempts: 1,
  });
  open.gw = gw;
  return { gw, visitor, agent, proxy };
}

/** The visitor's INVITE: a real call token and an SDP offer. */
async function visitorInvite(
  gw: TestGateway,
  visitor: RawSipClient,
  headers: string[] = [],
): Promise<{ text: string; callId: string }> {
  const callId = `core-${visitor.port}-${Date.now()}`;
  const text = inviteText({
    to: `sales@${gw.udp}`,
    port: visitor.port,
    callId,
    headers: [`Authorization: Bearer ${await gw.token()}`, ...headers],
    sdp: sdp(4000),
  });
  return { text, callId };
}

/** Sends `response` (built from `request` as a UAS) back to the gateway. */
function reply(
  client: RawSipClient,
  gw: TestGateway,
  request: SipRequest,
  status: number,
  options: { toTag?: string; headers?: [string, string][]; body?: string } = {},
): SipResponse {
  const response = createResponse(request, status, undefined, {
    ...(options.toTag !== undefined ? { toTag: options.toTag } : {}),
    headers: [
      ...(options.body !== undefined ? ([['Content-Type', 'application/sdp']] as const) : []),
      ...(options.headers ?? []),
    ],
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  client.send(gw.udp, serialize(response));
  return response;
}

/** The agent's phone rings (180) and answers (200 with SDP). */
async function agentAnswers(
  gw: TestGateway,
  agent: RawSipClient,
): Promise<{ invite: SipRequest; ok: SipResponse }> {
  const invite = (await agent.waitFor(isRequest('INVITE'))) as SipRequest;
  const contact: [string, string] = ['Contact', `<sip:agent1@127.0.0.1:${agent.port}>`];
  reply(agent, gw, invite, 180, { toTag: 'agt', headers: [contact] });
  const ok = reply(agent, gw, invite, 200, { toTag: 'agt', headers: [contact], body: sdp(4002) });
  return { invite, ok };
}

/** The visitor's ACK for the gateway's 2xx (its own transaction, §13.2.2.4). */
function ackText(visitor: RawSipClient, ok: SipResponse): string {
  return [
    `ACK ${ok.contact ? formatUri(ok.contact.uri) : ''} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${visitor.port};branch=z9hG4bK-ack-${Date.now()};rport`,
    `From: ${ok.headers.get('from')}`,
    `To: ${ok.headers.get('to')}`,
    `Call-ID: ${ok.callId}`,
    `CSeq: ${ok.cseq.seq} ACK`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** An in-dialog BYE from a raw UA: `from`/`to` are its own and the peer's header values. */
function byeText(o: {
  uri: string;
  port: number;
  from: string;
  to: string;
  callId: string;
  seq: number;
}): string {
  return [
    `BYE ${o.uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${o.port};branch=z9hG4bK-bye-${o.port}-${Date.now()};rport`,
    `From: ${o.from}`,
    `To: ${o.to}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.seq} BYE`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Arrival times of the messages matching `predicate`, and the gaps between them. */
function arrivals(client: RawSipClient, predicate: (m: SipRequest | SipResponse) => boolean) {
  const at = client.received.filter((r) => predicate(r.message)).map((r) => r.at);
  return { at, gaps: at.slice(1).map((t, i) => t - at[i]!) };
}

describe('Record-Route and the route set (RFC 3261 §12.1.1, §12.2.1.1)', () => {
  it('copies the visitor’s Record-Route into the 180 and 200, and routes the gateway’s BYE through it', async () => {
    const { gw, visitor, agent, proxy } = await setUp();
    // The visitor's INVITE came through two proxies; the nearer one named `proxy`'s
    // socket, which is not where the INVITE came from: the route set must decide.
    const recordRoutes = [
      `<sip:127.0.0.1:${proxy.port};lr;ftag=x1>`,
      '<sip:far-proxy.example.net;lr>',
    ];
    const { text, callId } = await visitorInvite(
      gw,
      visitor,
      recordRoutes.map((rr) => `Record-Route: ${rr}`),
    );
    visitor.send(gw.udp, text);
    const { invite: agentInvite, ok: agentOk } = await agentAnswers(gw, agent);
    // The agent leg is the gateway's own: no Record-Route of the visitor's path leaks to it.
    expect(agentInvite.headers.has('record-route')).toBe(false);

    const ringing = (await visitor.waitFor(isResponse(180))) as SipResponse;
    const ok = (await visitor.waitFor(isResponse(200))) as SipResponse;
    for (const response of [ringing, ok]) {
      expect(response.headers.getAll('record-route')).toEqual(recordRoutes);
      expect(response.to.tag).toBeDefined();
    }
    expect(ok.to.tag).toBe(ringing.to.tag);
    visitor.send(gw.udp, ackText(visitor, ok));
    await agent.waitFor(isRequest('ACK'));

    // The agent hangs up: the gateway's BYE to the visitor goes to the first Route.
    agent.send(
      gw.udp,
      byeText({
        uri: agentInvite.contact ? formatUri(agentInvite.contact.uri) : '',
        port: agent.port,
        from: agentOk.headers.get('to') ?? '',
        to: agentInvite.headers.get('from') ?? '',
        callId: agentInvite.callId,
        seq: 1,
      }),
    );
    expect(((await agent.waitFor(isResponse(200, 'BYE'))) as SipResponse).status).toBe(200);
    const bye = (await proxy.waitFor(isRequest('BYE', callId))) as SipRequest;
    expect(bye.headers.getAll('route')).toEqual(recordRoutes);
    // Loose routing: the Request-URI stays the visitor's Contact (§12.2.1.1).
    expect(bye.requestUri).toBe(`sip:visitor@127.0.0.1:${visitor.port}`);
    expect(bye.from.tag).toBe(ok.to.tag);
    expect(bye.to.tag).toBe(ok.from.tag);
    reply(proxy, gw, bye, 200);
    await sleep(150);
    expect(visitor.received.some((r) => isRequest('BYE')(r.message))).toBe(false);
    expect(proxy.received.filter((r) => isRequest('BYE')(r.message))).toHaveLength(1);
    const record = (await gw.gateway.callStore.listRecent(1))[0];
    expect(record).toMatchObject({ outcome: 'answered', endedBy: 'agent' });
  });
});

describe('Max-Forwards (RFC 3261 §16.3)', () => {
  it('refuses an INVITE with Max-Forwards: 0 with 483 and a Reason, and rings no one', async () => {
    const { gw, visitor, agent } = await setUp();
    const { text, callId } = await visitorInvite(gw, visitor);
    visitor.send(gw.udp, text.replace('Max-Forwards: 70', 'Max-Forwards: 0'));
    const refused = (await visitor.waitFor(
      (m) => m.type === 'response' && m.callId === callId && m.status >= 200,
    )) as SipResponse;
    expect(refused.status).toBe(483);
    expect(refused.reason).toBe('Too Many Hops');
    expect(refused.headers.get('reason')).toBe('SIP;cause=483;text="too_many_hops"');
    await sleep(300);
    expect(agent.received).toHaveLength(0);
    expect(await gw.gateway.callStore.listRecent(10)).toHaveLength(0);
    // Max-Forwards: 1 still passes (the last hop may deliver it).
    const next = await visitorInvite(gw, visitor);
    visitor.send(gw.udp, next.text.replace('Max-Forwards: 70', 'Max-Forwards: 1'));
    await agent.waitFor(isRequest('INVITE'));
  });
});

describe('client transaction timers (RFC 3261 §17.1, T1 = 100 ms)', () => {
  it('retransmits the INVITE to a silent agent per Timer A and gives up at Timer B: agent_unreachable', async () => {
    const { gw, visitor, agent } = await setUp();
    const { text, callId } = await visitorInvite(gw, visitor);
    const sentAt = Date.now();
    visitor.send(gw.udp, text);
    await agent.waitFor(isRequest('INVITE'));
    const final = (await visitor.waitFor(
      (m) => m.type === 'response' && m.callId === callId && m.status >= 200,
      15_000,
    )) as SipResponse;
    const { at } = arrivals(agent, isRequest('INVITE'));
    // A fires at 100, 300, 700, 1500, 3100 and 6300 ms (doubling, no cap); B at 6400 ms.
    // Six retransmissions, none before its time counted from before the first
    // send (lower bounds only: a loaded machine delays a timer, never advances it).
    expect(at).toHaveLength(7);
    const due = [0, 100, 300, 700, 1500, 3100, 6300];
    at.forEach((t, i) => expect(t - sentAt, `INVITE ${i}`).toBeGreaterThanOrEqual(due[i]! - 5));
    const gaveUpAfter = visitor.received.find((r) => r.message === final)!.at - sentAt;
    expect(gaveUpAfter).toBeGreaterThanOrEqual(6400 - 5);
    expect(final.status).toBe(503);
    expect(final.headers.get('reason')).toBe('SIP;cause=503;text="agent_unreachable"');
    const record = (await gw.gateway.callStore.listRecent(1))[0];
    expect(record).toMatchObject({
      visitorCallId: callId,
      outcome: 'failed',
      reason: 'agent_unreachable',
      sipStatus: 503,
    });
    expect(record?.attempts[0]).toMatchObject({ status: 408, reason: 'agent_unreachable' });
    // Nothing after Timer B.
    await sleep(300);
    expect(arrivals(agent, isRequest('INVITE')).at).toHaveLength(7);
    expect(gw.gateway.stack.transactions.stats().client).toBe(0);
  }, 12_000);

  it('retransmits a BYE to a silent agent per Timer E and ends the transaction at Timer F', async () => {
    const { gw, visitor, agent } = await setUp();
    const { text, callId } = await visitorInvite(gw, visitor);
    visitor.send(gw.udp, text);
    await agentAnswers(gw, agent);
    const ok = (await visitor.waitFor(isResponse(200))) as SipResponse;
    visitor.send(gw.udp, ackText(visitor, ok));
    await agent.waitFor(isRequest('ACK'));

    const byeSentAt = Date.now();
    visitor.send(
      gw.udp,
      byeText({
        uri: `sip:parley@${gw.udp}`,
        port: visitor.port,
        from: ok.headers.get('from') ?? '',
        to: ok.headers.get('to') ?? '',
        callId,
        seq: 2,
      }),
    );
    expect(((await visitor.waitFor(isResponse(200, 'BYE'))) as SipResponse).status).toBe(200);
    await agent.waitFor(isRequest('BYE'));
    const firstBye = Date.now();
    // The agent never answers. E fires at 100, 300, 700, 1500, 3100 and 6300 ms (T2 = 4 s
    // caps nothing yet); F ends the transaction at 6400 ms. The INVITE client
    // transaction (Timer M) ended before: the last client transaction is the BYE's.
    let endedAfter = -1;
    while (Date.now() - firstBye < 14_000) {
      if (gw.gateway.stack.transactions.stats().client === 0) {
        endedAfter = Date.now() - firstBye;
        break;
      }
      await sleep(20);
    }
    // Lower bounds only, from before the BYE that started it all: a loaded
    // machine delays a timer, never advances it.
    expect(endedAfter).toBeGreaterThan(0);
    expect(Date.now() - byeSentAt).toBeGreaterThanOrEqual(6400 - 5);
    const { at } = arrivals(agent, isRequest('BYE'));
    expect(at).toHaveLength(7);
    const due = [0, 100, 300, 700, 1500, 3100, 6300];
    at.forEach((t, i) => expect(t - byeSentAt, `BYE ${i}`).toBeGreaterThanOrEqual(due[i]! - 5));
    await sleep(300);
    expect(arrivals(agent, isRequest('BYE')).at).toHaveLength(7);
  }, 20_000);
});

describe('the UAS core’s 2xx (RFC 3261 §13.3.1.4)', () => {
  it('retransmits the 200 to the visitor until the ACK arrives, and not after', async () => {
    const { gw, visitor, agent } = await setUp();
    const { text } = await visitorInvite(gw, visitor);
    visitor.send(gw.udp, text);
    const beforeAnswer = Date.now();
    await agentAnswers(gw, agent);
    const ok = (await visitor.waitFor(isResponse(200))) as SipResponse;
    // T1, 2×T1, 4×T1 after the first: 100, 300, 700 ms; none before its time
    // (lower bounds only: a loaded machine delays a timer, never advances it).
    while (arrivals(visitor, isResponse(200)).at.length < 4) await sleep(10);
    const before = arrivals(visitor, isResponse(200));
    const due = [0, 100, 300, 700];
    before.at.forEach((t, i) => expect(t - beforeAnswer).toBeGreaterThanOrEqual(due[i]! - 5));
    // Every copy is the same response (same tag, same body).
    const copies = visitor.responses(200).filter((r) => r.cseq.method === 'INVITE');
    expect(new Set(copies.map((r) => `${r.to.tag} ${r.body.toString()}`)).size).toBe(1);
    visitor.send(gw.udp, ackText(visitor, ok));
    await sleep(100);
    const count = arrivals(visitor, isResponse(200)).at.length;
    // The next one would have come at 1500 ms.
    await sleep(1200);
    expect(arrivals(visitor, isResponse(200)).at.length).toBe(count);
    expect(gw.gateway.calls.size).toBe(1); // the ACK kept the call (no Timer L hang-up)
  });
});
