/**
 * Browsers' SIP over WebSocket through Kamailio (deploy/kamailio/): the
 * WebSocket ends on Kamailio, which passes the Origin of its handshake in
 * X-Parley-Origin and the client's transport in X-Parley-Source; the gateway
 * (trusting Kamailio's address only) checks the token's origin against it as
 * if the browser had connected directly, and the final response finds its way
 * back over the WebSocket. The tenant requires an Origin on WebSockets, so a
 * request Kamailio did not mark as a WebSocket's would pass where these fail.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKamailio, stopAll, type Kamailio } from '@parley/testkit';
import { parseMessage, type SipResponse } from '../src/sip/message/index.js';
import { ORIGIN, startTestGateway, type TestGateway } from './harness.js';
import { inviteText } from './raw-sip.js';

const EDGE = '127.0.0.2';
let gw: TestGateway;
let kamailio: Kamailio;

beforeAll(async () => {
  gw = await startTestGateway({
    tenantExtra: { origins: [ORIGIN], requireWebSocketOrigin: true },
    sipExtra: { edge: { trusted: [EDGE] } },
  });
  kamailio = await startKamailio({ gateways: [gw.udp], host: EDGE });
}, 60_000);
afterAll(async () => {
  await kamailio?.stop();
  await gw?.close();
  await stopAll();
});

/** The final response's status and Reason text, over a WebSocket to Kamailio. */
async function overKamailio(
  token: string,
  options: { origin?: string; headers?: string[] } = {},
): Promise<{ status: number; reason: string | undefined }> {
  const ws = new WebSocket(kamailio.wsUrl, 'sip', options.origin ? { origin: options.origin } : {});
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
    const text = inviteText({
      to: 'sales@parley.test',
      port: 5099,
      headers: [`Authorization: Bearer ${token}`, ...(options.headers ?? [])],
    })
      .replace('SIP/2.0/UDP', 'SIP/2.0/WS')
      .replace(/\r?\n/g, '\r\n');
    ws.send(text);
    const response = await final;
    return {
      status: response.status,
      reason: /text="([^"]+)"/.exec(response.headers.get('reason') ?? '')?.[1],
    };
  } finally {
    ws.terminate();
  }
}

describe('SIP over WebSocket through Kamailio', () => {
  it('passes the handshake Origin: the right page passes the token check', async () => {
    // Past the token check, the gateway wants a browser's (WebRTC) offer from
    // a WebSocket client: this plain RTP offer is refused for that, and only that.
    const { status, reason } = await overKamailio(await gw.token(), { origin: ORIGIN });
    expect(status).toBe(488);
    expect(reason).toBe('offer_required');
  });

  it('another page, or no Origin at all, is refused origin_mismatch', async () => {
    expect(await overKamailio(await gw.token(), { origin: 'https://evil.test' })).toMatchObject({
      reason: 'origin_mismatch',
    });
    expect(await overKamailio(await gw.token())).toMatchObject({ reason: 'origin_mismatch' });
  });

  it('a client cannot claim an Origin or a source in the headers itself', async () => {
    const forged = await overKamailio(await gw.token(), {
      headers: [`X-Parley-Origin: ${ORIGIN}`, 'X-Parley-Source: UDP 192.0.2.7:5060'],
    });
    expect(forged.reason).toBe('origin_mismatch');
  });
});
