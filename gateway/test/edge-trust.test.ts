/**
 * Behind a SIP edge proxy (Kamailio, deploy/kamailio/) every request comes
 * from the proxy's address: the proxy says who the client is in
 * `X-Parley-Source` and `X-Parley-Origin`, and the gateway believes them only
 * from `sip.edge.trusted` (docs/scaling.md, docs/security.md). Here bare UDP
 * sockets play the proxy (127.0.0.2, trusted) and a stranger (127.0.0.3)
 * sending the same headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipResponse } from '../src/sip/message/index.js';
import { ORIGIN, startTestGateway, type TestGateway } from './harness.js';
import { isFinal, optionsText, reasonOf, visitorInvite } from './raw-call.js';
import { RawSipClient } from './raw-sip.js';

const OTHER = 'https://other-shop.acme.test';

let gw: TestGateway;
let proxy: RawSipClient;
let stranger: RawSipClient;

beforeAll(async () => {
  [proxy, stranger] = await Promise.all([
    RawSipClient.open('127.0.0.2'),
    RawSipClient.open('127.0.0.3'),
  ]);
  gw = await startTestGateway({
    // No agent is registered: an INVITE whose token passes ends at routing.
    tenantExtra: { origins: [ORIGIN, OTHER], requireWebSocketOrigin: true },
    sipExtra: {
      edge: { trusted: ['127.0.0.2'] },
      rateLimit: { perSecond: 0.001, burst: 3 },
    },
  });
});
afterAll(async () => {
  proxy?.close();
  stranger?.close();
  await gw?.close();
});

/** The Reason code of the final response to a visitor INVITE sent by `client` with `headers`. */
async function inviteFrom(client: RawSipClient, headers: string[]): Promise<string | undefined> {
  const { text, callId } = await visitorInvite(gw, client, headers);
  client.send(gw.udp, text);
  return reasonOf((await client.waitFor(isFinal(callId), 10_000)) as SipResponse);
}

describe('the Origin and transport a trusted proxy reports', () => {
  it('are checked against the token: another page’s origin is refused', async () => {
    expect(
      await inviteFrom(proxy, [
        'X-Parley-Source: WS 198.51.100.7:40000',
        `X-Parley-Origin: ${OTHER}`,
      ]),
    ).toBe('origin_mismatch');
  });

  it('the token’s own origin passes, and the record names the browser, not the proxy', async () => {
    expect(
      await inviteFrom(proxy, [
        'X-Parley-Source: ws 198.51.100.8:40001',
        `X-Parley-Origin: ${ORIGIN}`,
      ]),
    ).toBe('no_agent_available');
    const { body } = await gw.api<{
      calls: { visitorSource: string; visitorTransport: string }[];
    }>('/v1/calls?limit=1');
    expect(body.calls[0]).toMatchObject({
      visitorSource: '198.51.100.8:40001',
      visitorTransport: 'WS',
    });
  });

  it('a WebSocket without an Origin is refused when the tenant requires one', async () => {
    expect(await inviteFrom(proxy, ['X-Parley-Source: WS 198.51.100.9:40002'])).toBe(
      'origin_mismatch',
    );
  });
});

describe('the same headers from anyone else', () => {
  it('are removed unread: no claimed WebSocket, no claimed origin', async () => {
    // Believed, "WS without Origin" would be refused; ignored, it is UDP and passes the token check.
    expect(await inviteFrom(stranger, ['X-Parley-Source: WS 198.51.100.10:40003'])).toBe(
      'no_agent_available',
    );
    // Believed, another page's origin would be refused.
    expect(
      await inviteFrom(stranger, [
        'X-Parley-Source: WS 198.51.100.10:40003',
        `X-Parley-Origin: ${OTHER}`,
      ]),
    ).toBe('no_agent_available');
    const { body } = await gw.api<{
      calls: { visitorSource: string; visitorTransport: string }[];
    }>('/v1/calls?limit=1');
    expect(body.calls[0]).toMatchObject({
      visitorSource: `127.0.0.3:${stranger.port}`,
      visitorTransport: 'UDP',
    });
  });
});

describe('rate limits behind the proxy', () => {
  /** Statuses of OPTIONS probes sent by `client`, each with `headers`. */
  async function probes(client: RawSipClient, count: number, headers: string[]) {
    const statuses: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const text = optionsText(client, gw.udp, headers);
      const callId = /Call-ID: (.*)\r/.exec(text)![1]!;
      client.send(gw.udp, text);
      const response = (await client.waitFor(
        (m) => m.type === 'response' && m.callId === callId,
      )) as SipResponse;
      statuses.push(response.status);
    }
    return statuses;
  }

  it('count each client the proxy names, and never the proxy’s own probes', async () => {
    // Three clients behind the proxy: each its own bucket (burst 3).
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3'])
      expect(await probes(proxy, 3, [`X-Parley-Source: UDP ${client}:5060`])).toEqual([
        200, 200, 200,
      ]);
    // One client past its burst is limited, not the proxy.
    expect(await probes(proxy, 1, ['X-Parley-Source: UDP 203.0.113.1:5060'])).toEqual([503]);
    // The proxy's own keep-alive probes (no client named) are not counted.
    expect(await probes(proxy, 5, [])).toEqual([200, 200, 200, 200, 200]);
  });
});
