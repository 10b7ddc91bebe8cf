/**
 * Attack (issue 17 item 4): a call token minted for a page outside the
 * tenant's origin allowlist, presented where there is no Origin header to
 * compare: over UDP, over TCP and over a WebSocket opened without `Origin`.
 * Each must be refused `origin_mismatch`; a tenant that asks for it refuses an
 * Origin-less WebSocket even with a good token.
 */
import { connect } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage, type SipResponse } from '../src/sip/message/index.js';
import { ORIGIN, startTestGateway, type TestGateway } from './harness.js';
import { RawSipClient, inviteText } from './raw-sip.js';

let open: TestGateway;
let strict: TestGateway;
let udp: RawSipClient;

beforeAll(async () => {
  [open, strict] = await Promise.all([
    startTestGateway({ tenantExtra: { origins: [ORIGIN] } }),
    startTestGateway({ tenantExtra: { origins: [ORIGIN], requireWebSocketOrigin: true } }),
  ]);
  udp = await RawSipClient.open();
});
afterAll(async () => {
  udp?.close();
  await Promise.all([open?.close(), strict?.close()]);
});

const invite = (token: string, transport: 'UDP' | 'TCP' | 'WS', port: number) =>
  inviteText({ to: 'sales@parley.test', port, headers: [`Authorization: Bearer ${token}`] })
    .replace('SIP/2.0/UDP', `SIP/2.0/${transport}`)
    .replace(/\r?\n/g, '\r\n');

/** The Reason text of the final response. */
const reasonOf = (response: SipResponse) =>
  /text="([^"]+)"/.exec(response.headers.get('reason') ?? '')?.[1];

async function overUdp(gw: TestGateway, token: string): Promise<string | undefined> {
  const text = invite(token, 'UDP', udp.port);
  const callId = /Call-ID: (.*)\r/.exec(text)![1]!;
  udp.send(gw.udp, text);
  const final = (await udp.waitFor(
    (m) => m.type === 'response' && m.status >= 200 && m.callId === callId,
    10_000,
  )) as SipResponse;
  return reasonOf(final);
}

async function overTcp(gw: TestGateway, token: string): Promise<string | undefined> {
  const [host, port] = gw.tcp.split(':');
  const socket = connect({ host: host!, port: Number(port) });
  try {
    let buffered = '';
    const final = new Promise<SipResponse>((resolve) =>
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1');
        for (const part of buffered.split(/(?=SIP\/2\.0 \d{3} )/)) {
          if (!/^SIP\/2\.0 [2-6]\d\d /.test(part) || !part.includes('\r\n\r\n')) continue;
          resolve(
            parseMessage(Buffer.from(part.slice(0, part.indexOf('\r\n\r\n') + 4))) as SipResponse,
          );
        }
      }),
    );
    socket.write(invite(token, 'TCP', 5099));
    return reasonOf(await final);
  } finally {
    socket.destroy();
  }
}

async function overWebSocket(
  gw: TestGateway,
  token: string,
  origin?: string,
): Promise<string | undefined> {
  const ws = new WebSocket(gw.gateway.sip.ws, 'sip', origin ? { origin } : {});
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const final = new Promise<SipResponse>((resolve) =>
      ws.on('message', (data) => {
        const message = parseMessage(Buffer.from(data as Buffer));
        if (message.type === 'response' && message.status >= 200) resolve(message);
      }),
    );
    ws.send(invite(token, 'WS', 5099));
    return reasonOf(await final);
  } finally {
    ws.terminate();
  }
}

describe('a token for a page outside the allowlist', () => {
  it('is refused over UDP, TCP and an Origin-less WebSocket', async () => {
    expect(await overUdp(open, await open.token({ origin: 'https://evil.test' }))).toBe(
      'origin_mismatch',
    );
    expect(await overTcp(open, await open.token({ origin: 'https://evil.test' }))).toBe(
      'origin_mismatch',
    );
    expect(await overWebSocket(open, await open.token({ origin: 'https://evil.test' }))).toBe(
      'origin_mismatch',
    );
  });

  it('while a token for an allowed page passes the token check on each', async () => {
    // No agent is registered: a token that passes ends at routing, not at the origin.
    expect(await overUdp(open, await open.token())).not.toBe('origin_mismatch');
    expect(await overTcp(open, await open.token())).not.toBe('origin_mismatch');
    expect(await overWebSocket(open, await open.token())).not.toBe('origin_mismatch');
  });
});

describe('a tenant with requireWebSocketOrigin', () => {
  it('refuses a WebSocket without Origin, even with a good token', async () => {
    expect(await overWebSocket(strict, await strict.token())).toBe('origin_mismatch');
    expect(await overWebSocket(strict, await strict.token(), ORIGIN)).not.toBe('origin_mismatch');
    // SIP over UDP has no Origin to send: the allowlisted claim is what counts.
    expect(await overUdp(strict, await strict.token())).not.toBe('origin_mismatch');
  });
});
