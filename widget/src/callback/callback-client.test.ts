import { describe, expect, it } from 'vitest';
import { gatewayHttpBase, requestCallback, type CallbackRequest } from './callback-client.js';

const request: CallbackRequest = {
  tokenUrl: 'https://shop.test/api/callback-token',
  destination: 'sales',
  phone: '+14155550123',
  country: 'US',
  when: 'now',
  gateway: undefined,
  page: 'https://shop.test/plumbers',
  impression: undefined,
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('gatewayHttpBase', () => {
  it('turns the SIP WebSocket URL or a base URL into the HTTP base', () => {
    expect(gatewayHttpBase('wss://gw.test/sip', 'https://x')).toBe('https://gw.test');
    expect(gatewayHttpBase('http://127.0.0.1:5080/', 'https://x')).toBe('http://127.0.0.1:5080');
    expect(gatewayHttpBase('/parley/', 'https://shop.test/a')).toBe('https://shop.test/parley');
    expect(gatewayHttpBase('ftp://gw.test', 'https://x')).toBeUndefined();
  });
});

describe('requestCallback', () => {
  it('asks the token endpoint, then the gateway, and answers the stream and cancel URLs', async () => {
    const asked: { url: string; body: unknown }[] = [];
    const fetchFn = async (url: string, init: RequestInit) => {
      asked.push({ url, body: JSON.parse(String(init.body ?? 'null')) });
      return url.endsWith('/callback-token')
        ? json(200, { token: 'a.b.c', expiresAt: 'x', gateway: { url: 'http://gw.test:5080' } })
        : json(201, {
            id: 'cb1',
            phase: 'scheduled',
            dueAt: '2026-12-05T18:00:00.000Z',
            events: '/v1/callbacks/cb1/events?key=k1',
            key: 'k1',
          });
    };
    const result = await requestCallback(fetchFn, request, new AbortController().signal);
    expect(asked).toEqual([
      {
        url: request.tokenUrl,
        body: { destination: 'sales', phone: '+14155550123', when: 'now', country: 'US' },
      },
      {
        url: 'http://gw.test:5080/v1/callbacks',
        body: { token: 'a.b.c', destination: 'sales', page: request.page },
      },
    ]);
    expect(result).toEqual({
      ok: true,
      id: 'cb1',
      dueAt: '2026-12-05T18:00:00.000Z',
      events: 'http://gw.test:5080/v1/callbacks/cb1/events?key=k1',
      cancel: 'http://gw.test:5080/v1/callbacks/cb1/cancel?key=k1',
    });
  });

  it("passes the screening's and the gateway's refusals on with their codes", async () => {
    const refused = await requestCallback(
      async () => json(429, { error: { code: 'rate_limited', message: 'per-number' } }),
      request,
      new AbortController().signal,
    );
    expect(refused).toMatchObject({ ok: false, code: 'rate_limited', message: 'per-number' });
    const replayed = await requestCallback(
      async (url) =>
        url.endsWith('/callback-token')
          ? json(200, { token: 'a.b.c', expiresAt: 'x', gateway: { url: 'http://gw.test' } })
          : json(409, { error: { code: 'replayed', message: 'token already used' } }),
      request,
      new AbortController().signal,
    );
    expect(replayed).toMatchObject({ ok: false, code: 'replayed' });
  });
});
