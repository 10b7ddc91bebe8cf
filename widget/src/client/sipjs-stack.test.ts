/**
 * The CallClient over the real sip.js 0.21 (parser, transactions, dialogs),
 * with a loopback transport in place of the WebSocket and a stub in place of
 * WebRTC: proves what the unit tests' fakes assume about sip.js (the INVITE it
 * sends, Reason headers reaching us, BYE answered, INFO bodies).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@parley/shared/errors';
import type { CallStateChange } from '../api/call-stack.js';
import { CallClient } from './call-client.js';
import { createSipJsStack } from './sipjs-stack.js';
import { FakeTone, fakeMicrophone, json } from './testing/fakes.js';
import { LoopTransport, header, reply } from './testing/loop-transport.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
const ANSWER =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';

const CONTACT = 'Contact: <sip:gw@127.0.0.1:5080;transport=ws>';
const transports = LoopTransport.created;

function setup() {
  const mic = fakeMicrophone();
  const stack = createSipJsStack({
    transportConstructor: LoopTransport,
    // No WebRTC in Node: a handler that offers and accepts fixed SDP.
    sessionDescriptionHandlerFactory: () => ({
      getDescription: async () => ({ body: ANSWER, contentType: 'application/sdp' }),
      setDescription: async () => undefined,
      hasDescription: (contentType: string) => contentType === 'application/sdp',
      close: () => undefined,
      sendDtmf: () => false,
    }),
  });
  const client = new CallClient(
    { tokenUrl: '/token', queue: 'sales', domain: 'parley.test' },
    {
      sip: stack,
      getUserMedia: async () => mic.stream,
      fetch: async () =>
        json(200, {
          token: TOKEN,
          expiresAt: 'x',
          claims: {},
          gateway: { url: 'http://127.0.0.1:5080' },
        }),
      ringback: () => new FakeTone(),
      baseUrl: 'https://shop.example/',
      now: () => 0,
      wallClock: () => 0,
      newId: () => 'id',
    },
  );
  const changes: CallStateChange[] = [];
  client.on('state', (change) => changes.push(change));
  return { client, changes };
}

async function invited(t: ReturnType<typeof setup>) {
  await t.client.call();
  const transport = transports.at(-1);
  if (!transport) throw new Error('no transport');
  const invite = await transport.next('INVITE ');
  return { transport, invite };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

afterEach(() => {
  transports.length = 0;
});

describe('CallClient over sip.js 0.21', () => {
  it('sends one INVITE to the queue with the bearer token and the offer, and no REGISTER', async () => {
    const t = setup();
    const { transport, invite } = await invited(t);
    expect(invite.split('\r\n')[0]).toBe('INVITE sip:sales@parley.test SIP/2.0');
    expect(header(invite, 'Authorization')).toBe(`Bearer ${TOKEN}`);
    expect(header(invite, 'Content-Type')).toBe('application/sdp');
    expect(invite).toContain('m=audio');
    expect(transport.sent.filter((m) => m.startsWith('REGISTER'))).toEqual([]);
    // sip.js holds a CANCEL until a provisional response came (RFC 3261 §9.1).
    transport.receive(reply(invite, '100 Trying'));
    const hangup = t.client.hangup();
    await transport.next('CANCEL ');
    transport.receive(reply(invite, '487 Request Terminated'));
    await hangup;
  });

  it('rings on 180, and maps a 403 with Reason to its code (and ACKs it)', async () => {
    const t = setup();
    const { transport, invite } = await invited(t);
    transport.receive(reply(invite, '100 Trying'));
    // sip.js drops a 180 without Contact (core/user-agents/user-agent-client.js); the gateway sends one.
    transport.receive(reply(invite, '180 Ringing', [CONTACT]));
    await settle();
    expect(t.client.state).toBe('ringing');
    transport.receive(reply(invite, '403 Forbidden', ['Reason: SIP;cause=403;text="expired"']));
    await settle();
    expect(t.changes.at(-1)).toMatchObject({
      state: 'error',
      code: 'expired',
      human: ERROR_CODES.expired.human,
    });
    expect(transport.sent.some((m) => m.startsWith('ACK '))).toBe(true);
  });

  it('answers on 200, sends DTMF as INFO, and ends on the BYE it answers', async () => {
    const t = setup();
    const { transport, invite } = await invited(t);
    const ok = reply(invite, '200 OK', [CONTACT, 'Content-Type: application/sdp'], ANSWER);
    transport.receive(ok);
    await transport.next('ACK ');
    await settle();
    expect(t.client.state).toBe('in-call');

    await t.client.sendDtmf('7');
    const info = await transport.next('INFO ');
    expect(header(info, 'Content-Type')).toBe('application/dtmf-relay');
    expect(info.endsWith('\r\n\r\nSignal=7\r\nDuration=160\r\n')).toBe(true);

    const contact = /<([^>]+)>/.exec(header(invite, 'Contact'))?.[1];
    const bye = [
      `BYE ${contact} SIP/2.0`,
      'Via: SIP/2.0/WSS gw.invalid;branch=z9hG4bKbye1',
      'Max-Forwards: 70',
      `From: ${header(ok, 'To')}`,
      `To: ${header(invite, 'From')}`,
      `Call-ID: ${header(invite, 'Call-ID')}`,
      'CSeq: 2 BYE',
      'Reason: SIP;cause=200;text="normal_clearing"',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    transport.receive(bye);
    const answered = await transport.next('SIP/2.0 200');
    expect(header(answered, 'CSeq')).toBe('2 BYE');
    await settle();
    expect(t.changes.at(-1)).toEqual({ state: 'ended' });
  });

  it('reports network_lost when the WebSocket drops during the call', async () => {
    const t = setup();
    const { transport, invite } = await invited(t);
    transport.receive(reply(invite, '180 Ringing', [CONTACT]));
    await settle();
    transport.drop();
    await settle();
    expect(t.changes.at(-1)).toMatchObject({ state: 'error', code: 'network_lost' });
  });

  it('sends CANCEL on hangup while ringing', async () => {
    const t = setup();
    const { transport, invite } = await invited(t);
    transport.receive(reply(invite, '180 Ringing', [CONTACT]));
    await settle();
    const hangup = t.client.hangup();
    const cancel = await transport.next('CANCEL ');
    expect(header(cancel, 'CSeq')).toBe('1 CANCEL');
    transport.receive(reply(cancel, '200 OK'));
    transport.receive(reply(invite, '487 Request Terminated'));
    await hangup;
    expect(transport.sent.some((m) => m.startsWith('ACK '))).toBe(true);
    expect(t.changes.at(-1)).toEqual({ state: 'ended' });
  });
});
