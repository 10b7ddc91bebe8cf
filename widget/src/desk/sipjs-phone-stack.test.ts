/**
 * The Softphone over the real sip.js 0.21 (parser, transactions, dialogs,
 * digest authentication), with an in-memory transport for the WebSocket and a
 * stub for WebRTC: proves what the unit tests' fakes assume about sip.js (the
 * REGISTER and its MD5 digest, 100/180 sent before our delegate hears of the
 * INVITE, the X-Parley-Call header reaching us, 200 with our answer, 486 on
 * decline, BYE both ways).
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LoopTransport, header, reply } from '../client/testing/loop-transport.js';
import { Softphone } from './softphone.js';
import type { PhoneCallChange } from './softphone-types.js';
import { createSipJsPhoneStack } from './sipjs-phone-stack.js';
import { fakeMicrophone, settle } from './testing/fakes.js';

const OFFER =
  'v=0\r\no=- 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 UDP/TLS/RTP/SAVPF 111\r\n';
const ANSWER =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
const transports = LoopTransport.created;
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

afterEach(() => {
  transports.length = 0;
});

function setup() {
  const described: string[] = [];
  const phone = new Softphone({
    stack: createSipJsPhoneStack({
      transportConstructor: LoopTransport,
      // No WebRTC in Node: a handler that takes the offer and answers fixed SDP.
      sessionDescriptionHandlerFactory: () => ({
        getDescription: async () => ({ body: ANSWER, contentType: 'application/sdp' }),
        setDescription: async (sdp: string) => void described.push(sdp),
        hasDescription: (contentType: string) => contentType === 'application/sdp',
        close: () => undefined,
        sendDtmf: () => false,
      }),
    }),
    getUserMedia: async () => fakeMicrophone().stream,
  });
  const calls: PhoneCallChange[] = [];
  phone.on('call', (change) => calls.push(change));
  return { phone, calls, described };
}

/** Registers through a 401 MD5 challenge, as the gateway's registrar does for desk agents. */
async function register(t: ReturnType<typeof setup>) {
  await t.phone.start({
    wsUrl: 'ws://127.0.0.1:5080/sip',
    domain: 'parley.test',
    username: 'agent1',
    password: 'secret',
  });
  const transport = transports.at(-1)!;
  const first = await transport.nth('REGISTER ', 0);
  transport.receive(
    reply(first, '401 Unauthorized', [
      'WWW-Authenticate: Digest realm="parley.test", nonce="n0nce", algorithm=MD5, qop="auth"',
    ]),
  );
  const second = await transport.nth('REGISTER ', 1);
  const contact = header(second, 'Contact');
  transport.receive(
    reply(second, '200 OK', [`Contact: ${contact.replace(/;expires=\d+/, '')};expires=300`]),
  );
  await settle();
  return { transport, first, second, contact };
}

function invite(
  transport: LoopTransport,
  contact: string,
  callId: string,
  sipCallId: string,
): string {
  const target = /<([^>]+)>/.exec(contact)![1]!;
  const lines = [
    `INVITE ${target} SIP/2.0`,
    `Via: SIP/2.0/WSS gw.invalid;branch=z9hG4bK${sipCallId}`,
    'Max-Forwards: 70',
    `From: "+15550100" <sip:+15550100@parley.test>;tag=gw-${sipCallId}`,
    'To: <sip:agent1@parley.test>',
    `Call-ID: ${sipCallId}`,
    'CSeq: 1 INVITE',
    'Contact: <sip:parley@127.0.0.1:5080;transport=ws>',
    `X-Parley-Call: ${callId}`,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(OFFER)}`,
  ];
  const message = `${lines.join('\r\n')}\r\n\r\n${OFFER}`;
  transport.receive(message);
  return message;
}

/** The first response sent for a SIP Call-ID with this status. */
async function response(
  transport: LoopTransport,
  sipCallId: string,
  status: string,
): Promise<string> {
  for (;;) {
    const found = transport.sent.find(
      (m) => m.startsWith(`SIP/2.0 ${status}`) && m.includes(`Call-ID: ${sipCallId}`),
    );
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('Softphone over sip.js 0.21', () => {
  it('registers sip:agent1@parley.test with an MD5 digest answer to the challenge', async () => {
    const t = setup();
    const { first, second } = await register(t);
    expect(first.split('\r\n')[0]).toBe('REGISTER sip:parley.test SIP/2.0');
    expect(header(first, 'To')).toContain('sip:agent1@parley.test');
    expect(header(first, 'Contact')).toMatch(/transport=ws/);
    const auth = header(second, 'Authorization');
    const param = (name: string) => new RegExp(`${name}="?([^",]+)"?`).exec(auth)?.[1];
    expect(param('username')).toBe('agent1');
    expect(param('algorithm')).toBe('MD5');
    const ha1 = md5('agent1:parley.test:secret');
    const ha2 = md5(`REGISTER:${param('uri')}`);
    expect(param('response')).toBe(
      md5(`${ha1}:n0nce:${param('nc')}:${param('cnonce')}:auth:${ha2}`),
    );
    expect(t.phone.status.status).toBe('registered');
  });

  it('rings on an INVITE with X-Parley-Call, answers with 200 and our SDP, ends on BYE', async () => {
    const t = setup();
    const { transport, contact } = await register(t);
    const request = invite(transport, contact, 'call-1', 'sip-a');
    // sip.js answers 100 and 180 itself before the delegate hears of the INVITE.
    await response(transport, 'sip-a', '100');
    const ringing = await response(transport, 'sip-a', '180');
    await settle();
    expect(t.calls).toEqual([{ callId: 'call-1', state: 'ringing' }]);
    expect(header(ringing, 'To')).toMatch(/;tag=/);
    expect(t.phone.canAnswer('call-1')).toBe(true);

    await t.phone.answer('call-1');
    const ok = await response(transport, 'sip-a', '200');
    expect(ok).toContain('m=audio 9');
    expect(t.described).toEqual([OFFER]);
    expect(t.calls.at(-1)).toEqual({ callId: 'call-1', state: 'connected' });
    // The gateway ACKs, then hangs up.
    const to = header(ok, 'To');
    const common = [
      `From: ${header(request, 'From')}`,
      `To: ${to}`,
      'Call-ID: sip-a',
      'Max-Forwards: 70',
    ];
    const remote = /<([^>]+)>/.exec(header(ok, 'Contact'))![1]!;
    transport.receive(
      [
        `ACK ${remote} SIP/2.0`,
        'Via: SIP/2.0/WSS gw.invalid;branch=z9hG4bKack1',
        ...common,
        'CSeq: 1 ACK',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    transport.receive(
      [
        `BYE ${remote} SIP/2.0`,
        'Via: SIP/2.0/WSS gw.invalid;branch=z9hG4bKbye1',
        ...common,
        'CSeq: 2 BYE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    const byeOk = await response(
      transport,
      'sip-a',
      '200 OK\r\nVia: SIP/2.0/WSS gw.invalid;branch=z9hG4bKbye1',
    );
    expect(header(byeOk, 'CSeq')).toBe('2 BYE');
    await settle();
    expect(t.calls.at(-1)).toEqual({ callId: 'call-1', state: 'ended' });
  });

  it('declines with 486 Busy Here, and ends a call the gateway cancels', async () => {
    const t = setup();
    const { transport, contact } = await register(t);
    invite(transport, contact, 'call-2', 'sip-b');
    await response(transport, 'sip-b', '180');
    await settle();
    await t.phone.decline('call-2');
    const busy = await response(transport, 'sip-b', '486');
    expect(header(busy, 'CSeq')).toBe('1 INVITE');
    expect(t.calls.at(-1)).toEqual({ callId: 'call-2', state: 'ended' });

    const request = invite(transport, contact, 'call-3', 'sip-c');
    await response(transport, 'sip-c', '180');
    await settle();
    transport.receive(
      [
        `CANCEL ${request.split(' ')[1]} SIP/2.0`,
        `Via: ${header(request, 'Via')}`,
        'Max-Forwards: 70',
        `From: ${header(request, 'From')}`,
        'To: <sip:agent1@parley.test>',
        'Call-ID: sip-c',
        'CSeq: 1 CANCEL',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    await response(transport, 'sip-c', '487');
    await settle();
    expect(t.calls.at(-1)).toEqual({ callId: 'call-3', state: 'ended' });
  });

  it('hangs up with BYE (once the gateway ACKed the 200), and unregisters on stop', async () => {
    const t = setup();
    const { transport, contact } = await register(t);
    const request = invite(transport, contact, 'call-4', 'sip-d');
    await response(transport, 'sip-d', '180');
    await settle();
    await t.phone.answer('call-4');
    const ok = await response(transport, 'sip-d', '200');
    // sip.js holds a BYE until the ACK of its 2xx came (RFC 3261 §15).
    const hangup = t.phone.hangup('call-4');
    await settle();
    expect(transport.sent.some((m) => m.startsWith('BYE '))).toBe(false);
    const remote = /<([^>]+)>/.exec(header(ok, 'Contact'))![1]!;
    transport.receive(
      [
        `ACK ${remote} SIP/2.0`,
        'Via: SIP/2.0/WSS gw.invalid;branch=z9hG4bKack4',
        'Max-Forwards: 70',
        `From: ${header(request, 'From')}`,
        `To: ${header(ok, 'To')}`,
        'Call-ID: sip-d',
        'CSeq: 1 ACK',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    const bye = await transport.next('BYE ');
    expect(header(bye, 'Call-ID')).toBe('sip-d');
    transport.receive(reply(bye, '200 OK'));
    await hangup;
    expect(t.calls.at(-1)).toEqual({ callId: 'call-4', state: 'ended' });

    const stopping = t.phone.stop();
    const unregister = await transport.nth('REGISTER ', 2);
    expect(header(unregister, 'Contact')).toMatch(/expires=0/);
    transport.receive(reply(unregister, '200 OK'));
    await stopping;
    expect(t.phone.status.status).toBe('off');
  });
});
