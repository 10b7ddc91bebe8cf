/**
 * Audio both ways through the relay, measured at both ends, for each G.711
 * codec: the visitor is our own SIP client with an RTP socket (it sends a
 * 1 kHz tone and keeps what it hears), the agent a baresip phone (it sends
 * an 800 Hz tone and records what it hears). Also checked on the same calls:
 * the agent is offered only the visitor's codec, the visitor sees nothing of
 * the agent's topology, the agent shows busy while in the call, the visitor's
 * BYE reaches the agent, and the record has both legs' Call-IDs and times.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyse, startBaresipAgent, stopAll, type BaresipAgent } from '@parley/testkit';
import { serialize, type SipResponse } from '../src/sip/message/index.js';
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
        const callId = `visitor-media-${codec}-${Date.now()}`;
        const session = `web-sess-media-${codec}`;
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
        ok = (await client.waitFor(
          (m) => m.type === 'response' && m.callId === callId && m.status === 200,
          10_000,
        )) as SipResponse;
        client.send(gw.udp, inDialog('ACK', ok, 1));
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

        for (let i = 0; i < 50 && gw.gateway.calls.size > 0; i += 1) await sleep(100);
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
        const times = ['createdAt', 'ringingAt', 'answeredAt', 'endedAt'].map((k) =>
          Date.parse(record[k] as string),
        );
        expect(times.every(Number.isFinite)).toBe(true);
        expect([...times].sort((a, b) => a - b)).toEqual(times);
        // About the 2.5 s the call lasted.
        expect(times[3]! - times[2]!).toBeGreaterThan(2000);
        expect((await gw.api<{ state: string }>('/v1/agents/agent1')).body.state).toBe('available');
      } finally {
        // A failed assertion must not leave the agent in the call for the next test.
        if (ok && !hungUp) client.send(gw.udp, inDialog('BYE', ok, 2));
        visitor.close();
      }
    },
  );
});
