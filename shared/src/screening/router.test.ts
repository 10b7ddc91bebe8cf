import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../errors/index.js';
import {
  ConfiguredTenantKeys,
  MemoryReplayStore,
  createCallTokenIssuer,
  createCallTokenVerifier,
  type CallTokenIssuer,
} from '../tokens/index.js';
import { makeTestKeys, type TestKeys } from '../tokens/test-keys.js';
import {
  createScreeningRouter,
  type CallTokenErrorResponse,
  type CallTokenResponse,
  type ScreeningRouterOptions,
} from './index.js';

const ISS = 'acme';
const AUD = 'gw.parley.test';
const ORIGIN = 'https://shop.acme.test';
const GATEWAY = {
  url: 'wss://gw.parley.test/ws',
  iceServers: [{ urls: ['turn:turn.parley.test:3478'], username: 'u', credential: 'c' }],
};

let keys: TestKeys;
let issuer: CallTokenIssuer;
let server: Server | undefined;
let base = '';

beforeAll(async () => {
  keys = await makeTestKeys('EdDSA');
  issuer = await createCallTokenIssuer({
    issuer: ISS,
    audience: AUD,
    signingKey: keys.tenant.privateJwk,
    encryptionKey: keys.gateway.publicJwk,
  });
});

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

afterAll(() => vi.restoreAllMocks());

/** Starts an app with the router under /parley; the session id comes from the `x-session` header. */
async function start(options: Partial<ScreeningRouterOptions> = {}): Promise<void> {
  const app = express();
  app.use(
    '/parley',
    createScreeningRouter({
      issuer,
      queues: ['sales'],
      allowedOrigins: [ORIGIN],
      gateway: GATEWAY,
      getSession: (req) => {
        const id = req.get('x-session');
        return id ? { id, privateClaims: { customerId: `C-${id}` } } : undefined;
      },
      ...options,
    }),
  );
  app.use(((error, _req, res, _next) => {
    res.status(500).json({ error: { code: 'internal', message: String(error) } });
  }) as express.ErrorRequestHandler);
  server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function post(
  body: unknown,
  headers: Record<string, string> = {},
  raw = false,
): Promise<globalThis.Response> {
  return fetch(`${base}/parley/call-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN, 'x-session': 's1', ...headers },
    body: raw ? (body as string) : JSON.stringify(body),
  });
}

async function expectError(response: globalThis.Response, code: ErrorCode) {
  expect(response.status).toBe(ERROR_CODES[code].http);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = (await response.json()) as CallTokenErrorResponse;
  expect(body.error).toEqual({
    code,
    message: ERROR_CODES[code].message,
    human: ERROR_CODES[code].human,
  });
  return body;
}

describe('POST /call-token', () => {
  it('answers 200 with a token the gateway verifies, its public claims and the gateway', async () => {
    await start();
    const response = await post({ queue: 'sales' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as CallTokenResponse;
    expect(body.gateway).toEqual(GATEWAY);
    expect(new Date(body.expiresAt).toISOString()).toBe(body.expiresAt);
    expect(Date.parse(body.expiresAt)).toBe(body.claims.exp * 1000);
    expect(body.claims).toMatchObject({
      iss: ISS,
      aud: AUD,
      sub: 's1',
      scope: 'queue:sales',
      origin: ORIGIN,
    });
    expect(JSON.stringify(body)).not.toContain('C-s1');

    const verifier = await createCallTokenVerifier({
      audience: AUD,
      tenantKeys: new ConfiguredTenantKeys({ [ISS]: { jwks: [keys.tenant.publicJwk] } }),
      decryptionKeys: [keys.gateway.privateJwk],
      replayStore: new MemoryReplayStore(),
    });
    const verified = await verifier.verify(body.token, {
      origin: ORIGIN,
      requiredScope: 'queue:sales',
    });
    expect(verified.claims).toEqual(body.claims);
    expect(verified.privateClaims).toEqual({ customerId: 'C-s1' });
  });

  it('leaves gateway out when none is configured', async () => {
    await start({ gateway: undefined });
    const body = (await (await post({ queue: 'sales' })).json()) as CallTokenResponse;
    expect(body).not.toHaveProperty('gateway');
  });

  it('asks a gateway function per token, with the session, and not for refusals', async () => {
    const gateway = vi.fn(async (session: { id: string }) => ({
      url: 'https://gw.parley.test',
      iceServers: [{ urls: 'turn:turn.parley.test', username: `x:${session.id}`, credential: 'c' }],
      iceTransportPolicy: 'relay' as const,
    }));
    await start({ gateway });
    const body = (await (await post({ queue: 'sales' })).json()) as CallTokenResponse;
    expect(body.gateway).toEqual({
      url: 'https://gw.parley.test',
      iceServers: [{ urls: 'turn:turn.parley.test', username: 'x:s1', credential: 'c' }],
      iceTransportPolicy: 'relay',
    });
    expect(gateway).toHaveBeenCalledOnce();
    expect(gateway.mock.calls[0]?.[0]).toMatchObject({ id: 's1' });
    await expectError(await post({ queue: 'nope' }), 'unknown_queue');
    expect(gateway).toHaveBeenCalledOnce();
  });

  it('still hands out the token, without gateway, when the gateway function fails', async () => {
    const errors: Error[] = [];
    await start({
      gateway: () => Promise.reject(new Error('gateway down')),
      onGatewayError: (e) => errors.push(e),
    });
    const response = await post({ queue: 'sales' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as CallTokenResponse;
    expect(body.token.split('.')).toHaveLength(3);
    expect(body).not.toHaveProperty('gateway');
    expect(errors.map((e) => e.message)).toEqual(['gateway down']);
  });

  it('answers 429 with Retry-After and retryAfterSeconds when rate limited', async () => {
    await start({ rateLimit: { perIp: { max: 1, windowSeconds: 30 } } });
    expect((await post({ queue: 'sales' })).status).toBe(200);
    const response = await post({ queue: 'sales' });
    const body = await expectError(response, 'rate_limited');
    expect(response.headers.get('retry-after')).toMatch(/^(29|30)$/);
    expect(body.retryAfterSeconds).toBe(Number(response.headers.get('retry-after')));
  });

  it.each<[string, Partial<ScreeningRouterOptions>, Record<string, string>, unknown, ErrorCode]>([
    [
      'a foreign origin',
      {},
      { origin: 'https://evil.test' },
      { queue: 'sales' },
      'origin_not_allowed',
    ],
    [
      'a blocked loopback address',
      { blocklist: { ips: ['127.0.0.0/8'] } },
      {},
      { queue: 'sales' },
      'blocked',
    ],
    ['no session', {}, { 'x-session': '' }, { queue: 'sales' }, 'session_required'],
    ['an unknown queue', {}, {}, { queue: 'billing' }, 'unknown_queue'],
    [
      'a closed queue',
      { queues: { sales: { businessHours: { timeZone: 'UTC', weekly: {} } } } },
      {},
      { queue: 'sales' },
      'outside_business_hours',
    ],
  ])('refuses %s with the code’s status and body', async (_name, options, headers, body, code) => {
    await start(options);
    const response = await post(body, headers);
    const answer = await expectError(response, code);
    expect(answer).not.toHaveProperty('retryAfterSeconds');
    expect(response.headers.get('retry-after')).toBeNull();
  });

  it('answers too_many_outstanding with Retry-After', async () => {
    await start({ maxOutstandingPerSession: 1, ttlSeconds: 60 });
    expect((await post({ queue: 'sales' })).status).toBe(200);
    const response = await post({ queue: 'sales' });
    const body = await expectError(response, 'too_many_outstanding');
    expect(body.retryAfterSeconds).toBeGreaterThan(0);
    expect(response.headers.get('retry-after')).toBe(String(body.retryAfterSeconds));
  });

  it.each<[string, string, Record<string, string>]>([
    ['bad JSON', '{"queue": ', {}],
    ['a JSON string', '"sales"', {}],
    ['no queue', '{}', {}],
    ['a queue that is not a string', '{"queue": 5}', {}],
    ['a JSON array', '["sales"]', {}],
    [
      'a body that is not JSON',
      'queue=sales',
      { 'content-type': 'application/x-www-form-urlencoded' },
    ],
    ['text/plain (a cross-site form)', '{"queue":"sales"}', { 'content-type': 'text/plain' }],
    ['a body over the limit', JSON.stringify({ queue: 'sales', pad: 'x'.repeat(10_000) }), {}],
  ])('answers 400 bad_request for %s', async (_name, body, headers) => {
    const onDecision = vi.fn();
    await start({ onDecision });
    await expectError(await post(body, headers, true), 'bad_request');
    expect(onDecision).toHaveBeenCalledOnce();
    expect(onDecision.mock.calls[0]?.[0]).toMatchObject({ ok: false, code: 'bad_request' });
  });

  it('hands getSession failures to the app’s error handler', async () => {
    await start({
      getSession: () => Promise.reject(new Error('session store down')),
    });
    const response = await post({ queue: 'sales' });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({
      error: { code: 'internal', message: 'Error: session store down' },
    });
  });

  it('takes the client address from getIp', async () => {
    await start({ getIp: () => '::ffff:198.51.100.4', blocklist: { ips: ['198.51.100.0/24'] } });
    await expectError(await post({ queue: 'sales' }), 'blocked');
  });

  it('does not answer other methods', async () => {
    await start();
    expect((await fetch(`${base}/parley/call-token`)).status).toBe(404);
  });
});

describe('createScreeningRouter options', () => {
  it('refuses a missing getSession and bad screening options with invalid_config', () => {
    expect(() =>
      createScreeningRouter({ issuer, queues: ['sales'] } as unknown as ScreeningRouterOptions),
    ).toThrow(/getSession/);
    expect(() =>
      createScreeningRouter({
        issuer,
        queues: ['sales'],
        blocklist: { ips: ['::/200'] },
        getSession: () => undefined,
      }),
    ).toThrow(/invalid/);
  });
});
