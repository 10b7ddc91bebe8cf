/**
 * Attack (issue 17 item 1): slow and greedy clients on SIP over TCP and on the
 * HTTP server, from one host, as a stranger would: many connections, partial
 * messages trickled a byte at a time, connections that say nothing, and
 * partial HTTP (upgrade) requests. Each is bounded in count and time; the
 * gateway must close what a real client would not hold open, and a proper
 * client must still be served afterwards.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    sipExtra: {
      tcp: { maxConnectionsPerSource: 8, messageTimeoutMs: 1000, idleTimeoutMs: 4000 },
    },
    config: {
      http: {
        host: '127.0.0.1',
        port: 0,
        headersTimeoutMs: 2000,
        requestTimeoutMs: 3000,
        maxConnectionsPerSource: 20,
      },
    },
  });
});
afterAll(async () => {
  await gw?.close();
});

const endpoint = (hostPort: string) => {
  const [host = '127.0.0.1', port = '0'] = hostPort.split(':');
  return { host, port: Number(port) };
};

/** An open connection; `closed` resolves when the server (or anything) ends it. */
async function open(target: { host: string; port: number }): Promise<{
  socket: Socket;
  closed: Promise<void>;
}> {
  const socket = connect(target);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  return { socket, closed };
}

/** The connections that are closed once `count` of them are (or after `boundMs`). */
async function afterClosing(
  conns: readonly { closed: Promise<void> }[],
  count: number,
  boundMs: number,
): Promise<boolean[]> {
  const state = conns.map(() => false);
  let done = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, boundMs);
    conns.forEach((c, i) =>
      c.closed.then(() => {
        state[i] = true;
        done += 1;
        if (done >= count) {
          clearTimeout(timer);
          resolve();
        }
      }),
    );
  });
  return [...state];
}

/** Resolves true when `closed` settles within `ms`, false otherwise (the attack held). */
const closedWithin = (closed: Promise<void>, ms: number) =>
  Promise.race([
    closed.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);

/** Sends `text` one byte every `everyMs` until the socket closes or the text is sent. */
async function trickle(socket: Socket, text: string, everyMs: number): Promise<number> {
  let sent = 0;
  for (const byte of Buffer.from(text)) {
    if (socket.destroyed) break;
    socket.write(Buffer.from([byte]));
    sent += 1;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return sent;
}

const options = (name: string) =>
  [
    'OPTIONS sip:parley.test SIP/2.0',
    `Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-${name}`,
    `From: <sip:${name}@127.0.0.1>;tag=${name}`,
    'To: <sip:parley.test>',
    `Call-ID: ${name}-client`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

const partialInvite = (bytes: number) =>
  [
    'INVITE sip:sales@parley.test SIP/2.0',
    'Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-slow',
    'From: <sip:slow@127.0.0.1>;tag=slow',
    'To: <sip:sales@parley.test>',
    'Call-ID: slow-client',
    'CSeq: 1 INVITE',
    `X-Padding: ${'a'.repeat(bytes)}`,
  ].join('\r\n');

describe('SIP over TCP against slow clients', () => {
  it('holds at most maxConnectionsPerSource connections from one address', async () => {
    const target = endpoint(gw.tcp);
    const conns = await Promise.all(Array.from({ length: 40 }, () => open(target)));
    // Each over the limit is closed by the gateway as it is accepted.
    const closed = await afterClosing(conns, 32, 10_000);
    expect(closed.filter((c) => !c).length).toBe(8);
    expect(gw.gateway.stack.transport.tcp?.connectionsFrom('127.0.0.1')).toBe(8);
    for (const c of conns) c.socket.destroy();
    await Promise.all(conns.map((c) => c.closed));
  });

  it('closes a connection whose message does not complete in time, however it trickles', async () => {
    const conns = await Promise.all(Array.from({ length: 4 }, () => open(endpoint(gw.tcp))));
    // 12 kB of head were sent at once before; here the head trickles a byte every 100 ms.
    for (const c of conns) c.socket.write(partialInvite(12_000));
    const text = '\r\nX-More: ' + 'b'.repeat(200);
    const sent = await Promise.all(conns.map((c) => trickle(c.socket, text, 100)));
    // Each was cut off by the gateway well before its 210 trickled bytes were out.
    for (const n of sent) expect(n).toBeLessThan(text.length);
    await Promise.all(conns.map((c) => c.closed));
  });

  it('closes a connection that sends nothing, or nothing after its last message', async () => {
    const silent = await open(endpoint(gw.tcp));
    const once = await open(endpoint(gw.tcp));
    const reply = new Promise<string>((resolve) =>
      once.socket.once('data', (d) => resolve(d.toString())),
    );
    once.socket.write(options('once'));
    expect(await reply).toMatch(/^SIP\/2\.0 200 /);
    // Node's socket timeout was the idle timer before (15 min, restarted by any byte).
    expect(await closedWithin(silent.closed, 15_000)).toBe(true);
    expect(await closedWithin(once.closed, 15_000)).toBe(true);
  });

  it('still serves a proper client afterwards', async () => {
    const { socket, closed } = await open(endpoint(gw.tcp));
    const reply = new Promise<string>((resolve) =>
      socket.once('data', (d) => resolve(d.toString())),
    );
    socket.write(options('fine'));
    expect(await reply).toMatch(/^SIP\/2\.0 200 /);
    socket.destroy();
    await closed;
  });
});

describe('HTTP server against slow clients', () => {
  const target = () => {
    const url = new URL(gw.gateway.httpUrl);
    return { host: url.hostname, port: Number(url.port) };
  };

  it('closes partial requests and partial WebSocket upgrades that trickle their headers', async () => {
    const heads = [
      'GET /healthz HTTP/1.1\r\nHost: gw\r\n',
      'GET /sip HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Protocol: sip\r\n',
    ];
    const conns = await Promise.all(Array.from({ length: 10 }, () => open(target())));
    conns.forEach((c, i) => c.socket.write(heads[i % 2]!));
    const more = 'X-Slow: ' + 'c'.repeat(100);
    const sent = await Promise.all(conns.map((c) => trickle(c.socket, more, 100)));
    for (const n of sent) expect(n).toBeLessThan(more.length);
    await Promise.all(conns.map((c) => c.closed));
  });

  it('holds at most maxConnectionsPerSource connections from one address', async () => {
    const conns = await Promise.all(Array.from({ length: 60 }, () => open(target())));
    const closed = await afterClosing(conns, 40, 10_000);
    expect(closed.filter((c) => !c).length).toBe(20);
    for (const c of conns) c.socket.destroy();
    await Promise.all(conns.map((c) => c.closed));
    // The limit counts open connections: a client is served once they are gone.
    expect((await fetch(`${gw.gateway.httpUrl}/healthz`)).status).toBe(200);
  });
});
