import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gatewayInfoSource } from './gateway-info.js';

const KEY = 'company-api-key-0123456789';
const TURN = { urls: ['turn:127.0.0.1:3478'], username: '1:acme', credential: 'c' };

let server: Server | undefined;
let requests: IncomingMessage[] = [];

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  requests = [];
});

/** A stand-in gateway on a real socket; `answer` decides each response. */
async function gateway(
  answer: (n: number) => { status?: number; body?: unknown; raw?: string; delayMs?: number },
): Promise<string> {
  server = createServer((req, res) => {
    requests.push(req);
    const a = answer(requests.length);
    setTimeout(() => {
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json' });
      res.end(a.raw ?? JSON.stringify(a.body));
    }, a.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server?.address() as AddressInfo).port}`;
}

/** The gateway's answer; its expiresAt is on the gateway's clock (here: a skewed one). */
const body = (ttlSeconds: number | null) => ({
  iceServers: [{ urls: 'stun:127.0.0.1:3478' }, TURN],
  iceTransportPolicy: 'relay',
  expiresAt: ttlSeconds === null ? null : new Date(Date.UTC(2001, 0, 1) + ttlSeconds * 1000),
  ttlSeconds,
});

describe('gatewayInfoSource', () => {
  it('asks the gateway with the API key and reuses the answer for half its lifetime, on its own clock', async () => {
    let now = 1_000_000;
    const url = await gateway(() => ({ body: body(600) }));
    const source = gatewayInfoSource({ url, apiKey: KEY, now: () => now });
    const first = await source();
    expect(first).toEqual({
      url,
      iceServers: [{ urls: 'stun:127.0.0.1:3478' }, TURN],
      iceTransportPolicy: 'relay',
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]?.method).toBe('POST');
    expect(requests[0]?.url).toBe('/v1/ice-servers');
    expect(requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    now += 299_000;
    await source();
    expect(requests).toHaveLength(1);
    now += 2_000;
    await source();
    expect(requests).toHaveLength(2);
  });

  it('shares one request between tokens asked at once, and asks apiUrl when given', async () => {
    const apiUrl = await gateway(() => ({ body: body(600), delayMs: 50 }));
    const source = gatewayInfoSource({ url: 'https://gw.example', apiUrl, apiKey: KEY });
    const answers = await Promise.all([source(), source(), source()]);
    expect(requests).toHaveLength(1);
    for (const a of answers) expect(a.url).toBe('https://gw.example');
  });

  it('asks again a minute later when the gateway mints nothing', async () => {
    let now = 0;
    const url = await gateway(() => ({ body: { ...body(null), iceTransportPolicy: 'all' } }));
    const source = gatewayInfoSource({ url, apiKey: KEY, now: () => now });
    expect((await source()).iceTransportPolicy).toBe('all');
    now = 59_000;
    await source();
    expect(requests).toHaveLength(1);
    now = 61_000;
    await source();
    expect(requests).toHaveLength(2);
  });

  it.each([
    ['a refusal', { status: 401, body: { error: { code: 'unauthorized' } } }, /answered 401/],
    ['garbage', { raw: 'not json' }, /JSON/],
    [
      'a wrong shape',
      { body: { iceServers: 'turn:x', iceTransportPolicy: 'all' } },
      /unexpected body/,
    ],
    [
      'a credential that is not a string',
      { body: { ...body(600), iceServers: [{ ...TURN, credential: 1 }] } },
      /unexpected body/,
    ],
    ['a lifetime that is not one', { body: { ...body(600), ttlSeconds: -1 } }, /unexpected body/],
    ['silence', { body: body(600), delayMs: 500 }, /timeout|abort/i],
  ])(
    'hands out the fallback and reports %s, naming the endpoint',
    async (_what, answer, message) => {
      const url = await gateway(() => answer);
      const onError = vi.fn();
      const source = gatewayInfoSource({ url, apiKey: KEY, onError, timeoutMs: 200 });
      expect(await source()).toEqual({ url });
      expect(onError).toHaveBeenCalledOnce();
      expect(String(onError.mock.calls[0]?.[0])).toMatch(message);
      expect(String(onError.mock.calls[0]?.[0])).toContain(`POST ${url}/v1/ice-servers`);
    },
  );

  it('reports a failure once however many tokens waited on it', async () => {
    const url = await gateway(() => ({ status: 503, body: {}, delayMs: 50 }));
    const onError = vi.fn();
    const source = gatewayInfoSource({ url, apiKey: KEY, onError });
    const answers = await Promise.all([source(), source(), source()]);
    expect(answers).toEqual([{ url }, { url }, { url }]);
    expect(onError).toHaveBeenCalledOnce();
  });

  it('keeps handing out cached credentials while they work when the gateway fails, then the fallback', async () => {
    let now = 0;
    const url = await gateway((n) => (n === 1 ? { body: body(600) } : { status: 503, body: {} }));
    const onError = vi.fn();
    const source = gatewayInfoSource({ url, apiKey: KEY, onError, now: () => now });
    const first = await source();
    expect(first.iceServers).toContainEqual(TURN);
    now = 301_000; // past half the lifetime: asks again, the gateway fails
    expect(await source()).toEqual(first);
    now = 569_000; // the credentials still work for more than 30 s
    expect(await source()).toEqual(first);
    now = 571_000; // too close to their expiry to hand out
    expect(await source()).toEqual({ url });
    expect(onError).toHaveBeenCalledTimes(3);
  });

  it('reuses an answer at most 12 h, whatever lifetime the gateway claims', async () => {
    let now = 0;
    const url = await gateway(() => ({ body: body(10 * 24 * 3600) }));
    const source = gatewayInfoSource({ url, apiKey: KEY, now: () => now });
    await source();
    now = 12 * 3600_000 - 1;
    await source();
    expect(requests).toHaveLength(1);
    now = 12 * 3600_000 + 1;
    await source();
    expect(requests).toHaveLength(2);
  });

  it('hands out the fallback when the gateway is down, and asks again next time', async () => {
    const onError = vi.fn();
    const fallback = { url: 'https://gw.example', iceServers: [{ urls: 'stun:s.example' }] };
    const source = gatewayInfoSource({
      url: 'https://gw.example',
      apiUrl: 'http://127.0.0.1:9',
      apiKey: KEY,
      fallback,
      onError,
    });
    expect(await source()).toEqual(fallback);
    expect(await source()).toEqual(fallback);
    expect(onError).toHaveBeenCalledTimes(2);
  });
});
