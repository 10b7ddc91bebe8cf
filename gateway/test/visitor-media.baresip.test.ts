/**
 * Audio both ways through the relay, measured at both ends, for each G.711
 * codec: the visitor is our own SIP client with an RTP socket (it sends a
 * 1 kHz tone and keeps what it hears), the agent a baresip phone (it sends
 * an 800 Hz tone and records what it hears). Also checked on the same calls:
 * the agent is offered only the visitor's codec, the visitor sees nothing of
 * the agent's topology, the agent shows busy while in the call, the visitor's
 * BYE reaches the agent, and the record has both legs' Call-IDs and times.
 * Then the other direction of mid-call signalling: the agent's hold and resume
 * re-INVITEs reach the visitor, a re-INVITE crossing one gets 491, and the
 * agent's BYE reaches the visitor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyse, startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import { serialize, type SipRequest, type SipResponse } from '../src/sip/message/index.js';
import { startTestGateway, type TestGateway } from './harness.js';
import { RawSipClient, inviteText } from './raw-sip.js';
import { RtpVisitor, type G711 } from './rtp-visitor.js';

let gw: TestGateway;
let phone: BaresipAgent;
let client: RawSipClient;

beforeAll(async () => {
  gw = await startTestGateway({ agents: [{ id: 'agent1' }] });
  phone = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: gw.udp,
    transport: 'udp',
  });
  await phone.registered();
  client = await RawSipClient.open();
});
afterAll(async () => {
  client?.close();
  await phone?.stop();
  await gw?.close();
  await stopAll();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An in-dialog request from the visitor (ACK or BYE), built from the 2xx (RFC 3261 §12.2.1.1). */
function inDialog(method: 'ACK' | 'BYE', ok: SipResponse, cseq: number): string {
  const routes = [...ok.headers.getAll('record-route')].reverse().map((r) => `Route: ${r}`);
  return [
    `${method} ${serializeUri(ok)} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bK-${method}-${cseq}-${Date.now()};rport`,
    `From: ${ok.headers.get('from')}`,
    `To: ${ok.headers.get('to')}`,
    `Call-ID: ${ok.callId}`,
    `CSeq: ${cseq} ${method}`,
    ...routes,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** The Contact URI of a response as it was written. */
function serializeUri(ok: SipResponse): string {
  const header = ok.headers.get('contact') ?? '';
  return /<([^>]+)>/.exec(header)?.[1] ?? header.trim();
}

/** INVITE with a token and the visitor's SDP, wait for the 200, ACK it. */
async function placeCall(visitor: RtpVisitor, session: string) {
  const callId = `visitor-media-${session}-${Date.now()}`;
  client.send(
    gw.udp,
    inviteText({
      to: `sales@${gw.udp}`,
      port: client.port,
      callId,
      headers: [`Authorization: Bearer ${await gw.token({ subject: session })}`],
      sdp: visitor.sdp(),
    }),
  );
  const ok = (await client.waitFor(
    (m) => m.type === 'response' && m.callId === callId && m.status === 200,
    10_000,
  )) as SipResponse;
  client.send(gw.udp, inDialog('ACK', ok, 1));
  return { ok, callId };
}

/** The visitor's answer to a request from the gateway (RFC 3261 §8.2.6: Via, From, To, Call-ID, CSeq copied). */
function respond(request: SipRequest, status: number, reason: string, sdp = ''): string {
  return [
    `SIP/2.0 ${status} ${reason}`,
    ...request.headers.getLines('via').map((v) => `Via: ${v}`),
    `From: ${request.headers.get('from')}`,
    `To: ${request.headers.get('to')}`,
    `Call-ID: ${request.callId}`,
    `CSeq: ${request.headers.get('cseq')}`,
    `Contact: <sip:visitor@127.0.0.1:${client.port}>`,
    ...(sdp ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n');
}

const nextRequest = async (method: string, callId: string, after: number) =>
  (await client.waitFor(
    (m) =>
      m.type === 'request' &&
      m.method === method &&
      m.callId === callId &&
      client.received.findIndex((r) => r.message === m) >= after,
    5000,
  )) as SipRequest;

function media(sdp: string): { host: string; port: number; payloadTypes: number[] } {
  const host = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1];
  const m = /^m=audio (\d+) RTP\/AVP ([\d ]+)/m.exec(sdp);
  if (!host || !m) throw new Error(`no audio in\n${sdp}`);
  return { host, port: Number(m[1]), payloadTypes: m[2]!.trim().split(' ').map(Number) };
}

describe('a SIP visitor and a baresip agent, through the relay', () => {
  it.each(['PCMU', 'PCMA'] as const)(
    '%s: each end hears the other (1 kHz at the agent, 800 Hz at the visitor)',
    async (codec: G711) => {
      const visitor = await RtpVisitor.open(codec, 1000);
      let ok: SipResponse | undefined;
      let hungUp = false;
      try {
        const since = phone.sipMessages().length;
        const session = `web-sess-media-${codec}`;
        const placed = await placeCall(visitor, session);
        ok = placed.ok;
        const callId = placed.callId;
        const answer = media(ok.body.toString());
        // The agent answered with the one codec it was offered; telephone-event may follow.
        expect(answer.payloadTypes[0]).toBe(visitor.payloadType);
        visitor.start(answer.host, answer.port);

        // Topology hiding toward the visitor: one Via (ours), the gateway as Contact,
        // nothing of the phone's address.
        const phoneAddress = phone.sipMessages().find((m) => m.direction === 'out')!.source;
        const toVisitor = client.received
          .map((r) => r.message)
          .filter((m) => m.type === 'response' && m.callId === callId);
        for (const message of toVisitor) {
          const text = serialize(message).toString();
          expect(message.vias).toHaveLength(1);
          expect(text).not.toMatch(/agent1|baresip|ssrc/i);
          expect(text).not.toContain(phoneAddress);
        }
        expect(serializeUri(ok)).toContain(gw.udp);

        const agentInvite = await phone.waitForRequest('INVITE', undefined, 5000, { since });
        // The visitor's hop count, one less (RFC 7332 §3).
        expect(agentInvite.header('max-forwards')).toBe('69');
        expect(media(agentInvite.body).payloadTypes.filter((pt) => pt < 96)).toEqual([
          visitor.payloadType,
        ]);
        await sleep(600);
        expect(
          (await gw.api<{ state: string; activeCalls: number }>('/v1/agents/agent1')).body,
        ).toMatchObject({ state: 'busy', activeCalls: 1 });
        await sleep(1900);

        client.send(gw.udp, inDialog('BYE', ok, 2));
        hungUp = true;
        await client.waitFor(
          (m) => m.type === 'response' && m.callId === callId && m.cseq.method === 'BYE',
          5000,
        );
        visitor.stop();
        const bye = await phone.waitForRequest('BYE', undefined, 5000, { since });
        expect(bye.header('call-id')).toBe(agentInvite.header('call-id'));

        const heard = await visitor.analyseReceived();
        expect(heard.packets).toBeGreaterThan(80);
        expect(heard.rms).toBeGreaterThan(0.05);
        expect(Math.abs(heard.roughFrequencyHz - 800)).toBeLessThan(80);
        const recorded = await analyse(phone.lastRecording().received!);
        expect(recorded.rms).toBeGreaterThan(0.05);
        expect(Math.abs(recorded.roughFrequencyHz - 1000)).toBeLessThan(100);

        await gw.callsEnded();
        const { body } = await gw.api<{ calls: Record<string, unknown>[] }>('/v1/calls?limit=1');
        const record = body.calls[0]!;
        expect(record).toMatchObject({
          sessionId: session,
          visitorCallId: callId,
          agentCallId: agentInvite.header('call-id'),
          agentId: 'agent1',
          outcome: 'answered',
          endedBy: 'visitor',
          visitorTransport: 'UDP',
        });
        expect(record['agentCallId']).not.toBe(callId);
        // The agent's 200 reached the gateway after the ringing, before the visitor's 200.
        const [attempt] = record['attempts'] as { answeredAt: string }[];
        const times = [
          record['createdAt'],
          record['ringingAt'],
          attempt?.answeredAt,
          record['answeredAt'],
          record['endedAt'],
        ].map((v) => Date.parse(v as string));
        expect(times.every(Number.isFinite)).toBe(true);
        expect([...times].sort((a, b) => a - b)).toEqual(times);
        // About the 2.5 s the call lasted.
        expect(times[4]! - times[3]!).toBeGreaterThan(2000);
        expect((await gw.api<{ state: string }>('/v1/agents/agent1')).body.state).toBe('available');
      } finally {
        // A failed assertion must not leave the agent in the call for the next test.
        if (ok && !hungUp) client.send(gw.udp, inDialog('BYE', ok, 2));
        visitor.close();
      }
    },
  );

  it("sends the agent's hold and resume to the visitor, answers the visitor's crossing re-INVITE with 491, and the agent's BYE", async () => {
    const visitor = await RtpVisitor.open('PCMU', 1000);
    const { ok, callId } = await placeCall(visitor, 'web-sess-agent-hold');
    let ended = false;
    try {
      const answer = media(ok.body.toString());
      visitor.start(answer.host, answer.port);
      await sleep(300);

      // The agent holds: its re-INVITE reaches the visitor, pointing at the relay.
      let mark = client.received.length;
      await phone.command('hold');
      const hold = await nextRequest('INVITE', callId, mark);
      expect(hold.body.toString()).toMatch(/a=sendonly/);
      expect(media(hold.body.toString())).toMatchObject({ host: answer.host, port: answer.port });
      // The visitor's own re-INVITE crosses it: glare, 491 (RFC 3261 §14.2).
      const reinvite = inDialog('BYE', ok, 3)
        .replace(/^BYE /, 'INVITE ')
        .replace('CSeq: 3 BYE', 'CSeq: 3 INVITE')
        .replace(
          'Content-Length: 0\r\n\r\n',
          `Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(visitor.sdp())}\r\n\r\n${visitor.sdp()}`,
        );
      client.send(gw.udp, reinvite);
      const glare = (await client.waitFor(
        (m) => m.type === 'response' && m.callId === callId && m.cseq.seq === 3 && m.status >= 200,
      )) as SipResponse;
      expect(glare.status).toBe(491);
      // The ACK of a non-2xx is part of the INVITE transaction: same branch (§17.1.1.3).
      client.send(
        gw.udp,
        inDialog('ACK', glare, 3).replace(/^Via: .*$/m, `Via: ${glare.headers.getLines('via')[0]}`),
      );
      // Then the visitor accepts the hold.
      const phoneMark = phone.sipMessages().length;
      client.send(
        gw.udp,
        respond(hold, 200, 'OK', visitor.sdp().replace('a=sendrecv', 'a=recvonly')),
      );
      await nextRequest('ACK', callId, mark);
      const toPhone = () =>
        phone
          .sipMessages()
          .slice(phoneMark)
          .find(
            (m) =>
              m.direction === 'in' && m.status === 200 && /INVITE/.test(m.header('cseq') ?? ''),
          );
      await expect.poll(toPhone, { timeout: 3000 }).toBeDefined();
      expect(toPhone()!.body).toMatch(/a=recvonly/);

      // Resume, the same way.
      mark = client.received.length;
      await phone.command('resume');
      const resume = await nextRequest('INVITE', callId, mark);
      expect(resume.body.toString()).toMatch(/a=sendrecv/);
      client.send(gw.udp, respond(resume, 200, 'OK', visitor.sdp()));
      await nextRequest('ACK', callId, mark);

      // The agent hangs up: the visitor gets the BYE.
      mark = client.received.length;
      await phone.hangup();
      const bye = await nextRequest('BYE', callId, mark);
      client.send(gw.udp, respond(bye, 200, 'OK'));
      ended = true;
      await gw.callsEnded();
      const { body } = await gw.api<{ calls: Record<string, unknown>[] }>('/v1/calls?limit=1');
      expect(body.calls[0]).toMatchObject({
        visitorCallId: callId,
        outcome: 'answered',
        endedBy: 'agent',
      });
    } finally {
      if (!ended) client.send(gw.udp, inDialog('BYE', ok, 9));
      visitor.close();
    }
  });
});
