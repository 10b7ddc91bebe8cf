/**
 * The gateway's listeners under hostile input: every RFC 4475 torture message
 * and many thousands of mutated INVITEs and REGISTERs, over UDP and over
 * WebSocket. The gateway must stay up, answer a well-formed OPTIONS afterwards,
 * and let every transaction it created end (no leak). And messages over the
 * size limit on each transport: answered 513/413 when they can be (RFC 3261
 * §21.5.14, §21.4.11), never a response to a response, and a stream closed
 * only when it cannot be framed any more.
 */
import { createConnection, type Socket } from 'node:net';
import { until } from '@parley/testkit';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rfc4475, rfc4475Names } from '../src/sip/message/fixtures/fixtures.js';
import {
  SipStreamDecoder,
  parseMessage,
  type SipRequest,
  type SipResponse,
} from '../src/sip/message/index.js';
import { startTestGateway, type TestGateway } from './harness.js';
import { RawSipClient, inviteText } from './raw-sip.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

/**
 * Sources. The gateway limits requests per source address (`sip.rateLimit`,
 * 1000/s with a burst of 2000 in the harness) and, over the budget, answers
 * 503 a few times and then drops. The fuzzing tests spend their source's
 * budget, so each test sends from its own loopback address, and the liveness
 * checks after a fuzz come from `WITNESS`, which sends little.
 */
const WITNESS = '127.0.0.2';
const TORTURE = '127.0.0.3';
const FUZZ = '127.0.0.4';
const OVERSIZE = '127.0.0.5';

function register(port: number, n: number): string {
  return [
    `REGISTER sip:parley.test SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-reg-${n};rport`,
    `From: <sip:agent1@parley.test>;tag=r${n}`,
    `To: <sip:agent1@parley.test>`,
    `Call-ID: reg-${n}`,
    `CSeq: ${n} REGISTER`,
    `Contact: <sip:agent1@127.0.0.1:${port}>;expires=60`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.string({ maxLength: 40 }),
  }),
  fc.record({ kind: fc.constant('dupLine' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dropLine' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('bigHeader' as const),
    size: fc.integer({ min: 100, max: 70_000 }),
  }),
  fc.record({
    kind: fc.constant('contentLength' as const),
    value: fc.oneof(fc.integer({ min: -5, max: 100_000 }).map(String), fc.string({ maxLength: 6 })),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(text: string, ms: Mutation[]): Buffer {
  let buf = Buffer.from(text);
  for (const m of ms) {
    const lines = buf.toString('latin1').split('\r\n');
    switch (m.kind) {
      case 'flip':
        if (buf.length) buf[m.at % buf.length] = m.byte;
        break;
      case 'cut':
        buf = buf.subarray(0, m.at % (buf.length + 1));
        break;
      case 'insert': {
        const at = m.at % (buf.length + 1);
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.text), buf.subarray(at)]);
        break;
      }
      case 'dupLine':
        lines.splice(m.at % lines.length, 0, lines[m.at % lines.length] ?? '');
        buf = Buffer.from(lines.join('\r\n'), 'latin1');
        break;
      case 'dropLine':
        lines.splice(m.at % lines.length, 1);
        buf = Buffer.from(lines.join('\r\n'), 'latin1');
        break;
      case 'bigHeader':
        lines.splice(1, 0, `X-Big: ${'x'.repeat(m.size)}`);
        buf = Buffer.from(lines.join('\r\n'), 'latin1');
        break;
      case 'contentLength':
        buf = Buffer.from(
          buf.toString('latin1').replace(/Content-Length: [^\r]*/, `Content-Length: ${m.value}`),
          'latin1',
        );
        break;
    }
  }
  return buf;
}

/**
 * Sends an OPTIONS from `client` and expects its 200. The gateway reads its UDP
 * socket in order, so once the answer is here every datagram this client sent
 * before was read; so were those other sockets of this process sent before
 * (on loopback they reach the gateway's socket in the order they were sent).
 */
async function stillAnswers(client: RawSipClient, n: number): Promise<void> {
  const callId = `alive-${n}-${Date.now()}`;
  client.send(
    gw.udp,
    [
      `OPTIONS sip:parley.test SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bK-alive-${n}-${Date.now()};rport`,
      `From: <sip:probe@127.0.0.1>;tag=p${n}`,
      `To: <sip:parley.test>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
  const answer = await client.waitFor((m) => m.type === 'response' && m.callId === callId, 5000);
  expect(answer.type === 'response' && answer.status).toBe(200);
}

/** The gateway's limit (config sip.maxMessageBytes, default 16 kB). */
const MAX_BYTES = 16_384;

/** A SIP peer over one TCP connection or WebSocket: what it received, and whether it was closed. */
interface StreamPeer {
  readonly received: (SipRequest | SipResponse)[];
  /** Resolves with the WebSocket close code (TCP: 0) when the gateway closes. */
  readonly closed: Promise<number>;
  isClosed(): boolean;
  send(text: string): Promise<void>;
  close(): void;
}

/** A SIP peer over a WebSocket, which can also send a CRLF keep-alive. */
interface WsPeer extends StreamPeer {
  /**
   * Sends a CRLF keep-alive and resolves with the gateway's CRLF answer: the
   * socket's messages are handled in order, so every message sent before was
   * read by then. Keep-alives are not requests: no rate limit applies.
   */
  keepAlive(): Promise<void>;
}

async function tcpPeer(): Promise<StreamPeer> {
  const [host = '127.0.0.1', port = '0'] = gw.tcp.split(':');
  const socket: Socket = createConnection({ host, port: Number(port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const decoder = new SipStreamDecoder();
  const received: (SipRequest | SipResponse)[] = [];
  let isClosed = false;
  socket.on('data', (chunk) => {
    for (const event of decoder.push(chunk))
      if (event.type === 'message') received.push(event.message);
  });
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      resolve(0);
    }),
  );
  return {
    received,
    closed,
    isClosed: () => isClosed,
    send: (text) =>
      new Promise((resolve, reject) =>
        socket.write(text, (error) => (error ? reject(error) : resolve())),
      ),
    close: () => socket.destroy(),
  };
}

async function wsPeer(): Promise<WsPeer> {
  const ws = new WebSocket(gw.gateway.sip.ws, 'sip');
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const received: (SipRequest | SipResponse)[] = [];
  const keepAliveAnswers: (() => void)[] = [];
  ws.on('message', (data: Buffer) => {
    if (data.toString('latin1').trim() === '') {
      keepAliveAnswers.shift()?.();
      return;
    }
    try {
      received.push(parseMessage(data));
    } catch {
      // What does not parse is not the gateway's to send: the test fails on what is missing.
    }
  });
  ws.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return {
    received,
    closed,
    isClosed: () => ws.readyState !== WebSocket.OPEN,
    send: (text) =>
      new Promise((resolve, reject) =>
        ws.send(text, (error) => (error ? reject(error) : resolve())),
      ),
    close: () => ws.close(),
    keepAlive: () =>
      new Promise<void>((resolve, reject) => {
        keepAliveAnswers.push(resolve);
        ws.send('\r\n\r\n', (error) => {
          if (error) reject(error);
        });
      }),
  };
}

function options(transport: string, port: number, callId: string): string {
  return [
    `OPTIONS sip:parley.test SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.0.1:${port};branch=z9hG4bK-${callId};rport`,
    `From: <sip:probe@127.0.0.1>;tag=o1`,
    `To: <sip:parley.test>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const ofCall = (peer: { received: (SipRequest | SipResponse)[] }, callId: string) =>
  peer.received.filter((m): m is SipResponse => m.type === 'response' && m.callId === callId);

async function noLeaks(): Promise<void> {
  // Server transactions end within 64×T1 (6.4 s at T1 = 100 ms) plus T4 for Confirmed ones.
  await until(
    () => {
      const t = gw.gateway.stack.transactions.stats();
      return t.server === 0 && t.client === 0;
    },
    'every transaction to end',
    12_000,
    100,
  );
  expect(gw.gateway.calls.size).toBe(0);
  expect(gw.gateway.stack.dialogCount).toBe(0);
  expect(gw.gateway.media.routerCount).toBe(0);
}

describe('listeners', () => {
  it('takes every RFC 4475 torture message over UDP and stays up', async () => {
    const client = await RawSipClient.open(TORTURE);
    try {
      for (const name of rfc4475Names()) client.send(gw.udp, rfc4475(name));
      await stillAnswers(client, 0);
      await noLeaks();
    } finally {
      client.close();
    }
  }, 30_000);

  it('takes 6000 mutated INVITEs and REGISTERs over UDP and stays up without leaking', async () => {
    const client = await RawSipClient.open(FUZZ);
    const witness = await RawSipClient.open(WITNESS);
    try {
      const samples = fc.sample(
        fc.tuple(fc.boolean(), fc.array(mutation, { minLength: 1, maxLength: 3 })),
        { numRuns: 6000, seed: 4475 },
      );
      let n = 0;
      for (const [isInvite, ms] of samples) {
        n += 1;
        const base = isInvite
          ? inviteText({
              to: `sales@${gw.udp}`,
              port: client.port,
              headers: ['Authorization: Bearer x.y.z'],
              sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n',
            })
          : register(client.port, n);
        const data = mutate(base, ms);
        if (data.length > 0 && data.length < 65_000) client.send(gw.udp, data);
        // Paced by the gateway itself: it has read what came before the answer.
        if (n % 200 === 0) await stillAnswers(witness, 100 + n);
      }
      await stillAnswers(witness, 1);
      await noLeaks();
    } finally {
      client.close();
      witness.close();
    }
  }, 60_000);

  it('takes 2000 mutated INVITEs and REGISTERs over WebSocket, reopening it when closed, and stays up', async () => {
    const samples = fc.sample(
      fc.tuple(fc.boolean(), fc.array(mutation, { minLength: 1, maxLength: 3 })),
      { numRuns: 2000, seed: 7118 },
    );
    let peer = await wsPeer();
    let expected = 0;
    let sent = 0;
    let invites = 0;
    let tooBig = 0;
    let reopened = 0;
    for (const [isInvite, ms] of samples) {
      const base = isInvite
        ? inviteText({ to: 'sales@parley.test', port: 5060 })
        : register(5060, 10_000 + expected);
      const text = mutate(base.replace('SIP/2.0/UDP', 'SIP/2.0/WS'), ms).toString('latin1');
      if (text.length === 0) continue;
      expected += 1;
      // A send can fail only if the gateway closed the socket: reopen it and send again.
      for (let attempt = 0; ; attempt += 1) {
        if (peer.isClosed()) {
          peer = await wsPeer();
          reopened += 1;
        }
        try {
          await peer.send(text);
          break;
        } catch (error) {
          if (attempt > 0) throw error;
        }
      }
      sent += 1;
      if (isInvite) invites += 1;
      // Over what the gateway reads at all, the WebSocket closes: 1009 Message Too Big (RFC 6455 §7.4.1).
      if (Buffer.byteLength(text) > 65_535) {
        tooBig += 1;
        expect(await peer.closed).toBe(1009);
      }
    }
    // The gateway read everything sent (a peer closed for size was read up to its close).
    if (!peer.isClosed()) await peer.keepAlive();
    peer.close();
    expect(sent).toBe(expected);
    expect(expected).toBeGreaterThan(1950);
    expect(invites).toBeGreaterThan(800);
    expect(sent - invites).toBeGreaterThan(800);
    expect(tooBig).toBeGreaterThan(0);
    // Every reopening followed a close for size, none was needed otherwise.
    expect(reopened).toBeLessThanOrEqual(tooBig);
    expect(reopened).toBeGreaterThanOrEqual(tooBig - 1);
    const client = await RawSipClient.open(WITNESS);
    try {
      await stillAnswers(client, 2);
      await noLeaks();
    } finally {
      client.close();
    }
  }, 60_000);

  it('refuses a WebSocket without the sip subprotocol (RFC 7118 §4.1)', async () => {
    const ws = new WebSocket(gw.gateway.sip.ws);
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(-1));
    });
    expect(status).toBe(400);
  });

  it('answers an oversized datagram it can read with 513 or 413, and nothing else (RFC 3261 §21.5.14)', async () => {
    const client = await RawSipClient.open(OVERSIZE);
    try {
      // The header section alone is over the limit: 513 Message Too Large.
      const bigHead = inviteText({
        to: `sales@${gw.udp}`,
        port: client.port,
        callId: 'oversize-head',
        headers: [`X-Pad: ${'p'.repeat(20_000)}`],
      });
      expect(Buffer.byteLength(bigHead)).toBeGreaterThan(MAX_BYTES);
      client.send(gw.udp, bigHead);
      // Only the body is: 413 Request Entity Too Large (§21.4.11).
      const bigBody = inviteText({
        to: `sales@${gw.udp}`,
        port: client.port,
        callId: 'oversize-body',
        sdp: `v=0\r\n${'a=x\r\n'.repeat(4000)}`,
      });
      client.send(gw.udp, bigBody);
      // Never a response to a response (§18.1.2), nor to an ACK, nor to what cannot be answered.
      client.send(
        gw.udp,
        bigHead
          .replace(/^INVITE [^\r]*/, 'SIP/2.0 200 OK')
          .replace('Call-ID: oversize-head', 'Call-ID: oversize-response'),
      );
      client.send(
        gw.udp,
        bigHead
          .replace(/^INVITE /, 'ACK ')
          .replace('CSeq: 1 INVITE', 'CSeq: 1 ACK')
          .replace('Call-ID: oversize-head', 'Call-ID: oversize-ack'),
      );
      client.send(gw.udp, bigHead.replace(/Call-ID: [^\r]*\r\n/, '').replace('Via:', 'X-Via:'));
      client.send(gw.udp, Buffer.alloc(30_000, 0x61));

      const head = (await client.waitFor(
        (m) => m.type === 'response' && m.callId === 'oversize-head',
      )) as SipResponse;
      const body = (await client.waitFor(
        (m) => m.type === 'response' && m.callId === 'oversize-body',
      )) as SipResponse;
      expect(head.status).toBe(513);
      expect(head.reason).toBe('Message Too Large');
      expect(head.to.tag).toBeDefined();
      expect(head.headers.get('warning')).toMatch(
        /header section of a \d+-octet message is larger than 16384/,
      );
      expect(body.status).toBe(413);
      // Every datagram above was read and answered if it was to be.
      await stillAnswers(client, 3);
      // A bounded negative check, the one wait here: a retransmission would come T1 (100 ms in
      // the harness, Timer G) after the response, and again 200 ms later; none may.
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Exactly these two answers, once each (the refusal is not a transaction: no retransmission).
      const answers = client.responses().filter((r) => !r.callId.startsWith('alive-'));
      expect(answers.map((r) => `${r.callId} ${r.status}`)).toEqual([
        'oversize-head 513',
        'oversize-body 413',
      ]);
      // One server transaction: the OPTIONS' (Timer J keeps it 64×T1), none for the refusals.
      expect(gw.gateway.stack.transactions.stats().server).toBe(1);
    } finally {
      client.close();
    }
  });

  it('over TCP: answers 413 to a body over the limit, skips it and keeps the connection (RFC 3261 §18.3)', async () => {
    const peer = await tcpPeer();
    try {
      const invite = inviteText({ to: `sales@${gw.tcp}`, port: 5060, callId: 'tcp-big-body' })
        .replace('SIP/2.0/UDP', 'SIP/2.0/TCP')
        .replace(/Content-Length: 0\r\n\r\n$/, 'Content-Length: 40000\r\n\r\n');
      // Content-Length still frames the stream: the body is skipped as it streams by.
      await peer.send(invite);
      for (let i = 0; i < 4; i += 1) await peer.send('b'.repeat(10_000));
      await peer.send(options('TCP', 5060, 'tcp-after-big'));
      await until(() => ofCall(peer, 'tcp-after-big').length > 0, 'the OPTIONS answered');
      expect(ofCall(peer, 'tcp-big-body').map((r) => r.status)).toEqual([413]);
      expect(ofCall(peer, 'tcp-after-big').map((r) => r.status)).toEqual([200]);
      expect(peer.isClosed()).toBe(false);
    } finally {
      peer.close();
    }
  });

  it('over TCP: answers 413 to a Content-Length too large to skip, then closes the connection', async () => {
    const peer = await tcpPeer();
    try {
      const invite = inviteText({ to: `sales@${gw.tcp}`, port: 5060, callId: 'tcp-huge-body' })
        .replace('SIP/2.0/UDP', 'SIP/2.0/TCP')
        .replace(/Content-Length: 0\r\n\r\n$/, 'Content-Length: 999999999999\r\n\r\n');
      // Skipping a terabyte would hold the connection for as long as the peer likes.
      await peer.send(invite + 'b'.repeat(10_000));
      await peer.closed;
      expect(ofCall(peer, 'tcp-huge-body').map((r) => r.status)).toEqual([413]);
    } finally {
      peer.close();
    }
  });

  it('over TCP: closes the connection on a header section over the limit, answering nothing', async () => {
    const peer = await tcpPeer();
    try {
      const invite = inviteText({
        to: `sales@${gw.tcp}`,
        port: 5060,
        callId: 'tcp-big-head',
        headers: [`X-Pad: ${'p'.repeat(20_000)}`],
      }).replace('SIP/2.0/UDP', 'SIP/2.0/TCP');
      await peer.send(invite);
      // The end of the head is not within the limit: the stream cannot be framed any more.
      await peer.closed;
      expect(peer.received).toEqual([]);
    } finally {
      peer.close();
    }
    const client = await RawSipClient.open(WITNESS);
    try {
      await stillAnswers(client, 4);
    } finally {
      client.close();
    }
  });

  it('over WebSocket: answers 513 or 413 to a message over the limit and keeps the socket; closes it (1009) beyond 64 kB', async () => {
    const peer = await wsPeer();
    try {
      const ws = (text: string) => text.replace('SIP/2.0/UDP', 'SIP/2.0/WS');
      await peer.send(
        ws(
          inviteText({
            to: 'sales@parley.test',
            port: 5060,
            callId: 'ws-big-head',
            headers: [`X-Pad: ${'p'.repeat(20_000)}`],
          }),
        ),
      );
      await peer.send(
        ws(
          inviteText({
            to: 'sales@parley.test',
            port: 5060,
            callId: 'ws-big-body',
            sdp: `v=0\r\n${'a=x\r\n'.repeat(4000)}`,
          }),
        ),
      );
      await peer.send(
        ws(
          inviteText({
            to: 'sales@parley.test',
            port: 5060,
            callId: 'ws-big-response',
            headers: [`X-Pad: ${'p'.repeat(20_000)}`],
          }),
        ).replace(/^INVITE [^\r]*/, 'SIP/2.0 180 Ringing'),
      );
      await peer.send(options('WS', 5060, 'ws-after-big'));
      await until(() => ofCall(peer, 'ws-after-big').length > 0, 'the OPTIONS answered');
      expect(ofCall(peer, 'ws-big-head').map((r) => r.status)).toEqual([513]);
      expect(ofCall(peer, 'ws-big-body').map((r) => r.status)).toEqual([413]);
      expect(ofCall(peer, 'ws-big-response')).toEqual([]);
      expect(peer.isClosed()).toBe(false);
      await peer.send(
        ws(
          inviteText({
            to: 'sales@parley.test',
            port: 5060,
            callId: 'ws-huge',
            headers: [`X-Pad: ${'p'.repeat(70_000)}`],
          }),
        ),
      );
      expect(await peer.closed).toBe(1009);
      expect(ofCall(peer, 'ws-huge')).toEqual([]);
    } finally {
      peer.close();
    }
  });
});
