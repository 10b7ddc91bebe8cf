import {
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  createCallTokenIssuer,
} from '@parley/shared/tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { startGateway, type Gateway } from '../gateway.js';
import { createLogger } from '../observability/index.js';

let gateway: Gateway;
let issue: (origin?: string) => Promise<string>;

const ICE_SERVERS = [
  { urls: 'stun:stun.acme.test:3478' },
  {
    urls: ['turn:turn.acme.test:3478?transport=udp', 'turns:turn.acme.test:5349'],
    username: 'parley',
    credential: 'turn-secret',
  },
];

beforeAll(async () => {
  const gw = await generateEncryptionKeyPair();
  const tenant = await generateSigningKeyPair();
  gateway = await startGateway(
    loadConfig({
      input: {
        gatewayId: 'gw-test',
        http: { port: 0 },
        tokens: { encryptionKeys: [gw.privateJwk] },
        tenants: { acme: { jwks: [tenant.publicJwk] } },
        media: { iceServers: ICE_SERVERS },
        storage: { path: ':memory:' },
      },
    }),
    { logger: createLogger('silent') },
  );
  const issuer = await createCallTokenIssuer({
    issuer: 'acme',
    audience: 'gw-test',
    signingKey: tenant.privateJwk,
    encryptionKey: gw.publicJwk,
  });
  issue = async (origin = 'https://shop.acme.test') =>
    (
      await issuer.issue({
        subject: 's1',
        scope: 'queue:sales',
        origin,
        privateClaims: { customerId: 'secret-C-1' },
      })
    ).token;
});
afterAll(() => gateway.close());

describe('gateway HTTP', () => {
  it('GET /healthz', async () => {
    const res = await fetch(`${gateway.httpUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
  });

  it('publishes the configured STUN and TURN servers at /.well-known/parley-gateway.json', async () => {
    const res = await fetch(`${gateway.httpUrl}/.well-known/parley-gateway.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['iceServers']).toEqual(ICE_SERVERS);
    expect(body).toMatchObject({
      gatewayId: 'gw-test',
      url: gateway.httpUrl,
      sip: { webSocket: `${gateway.httpUrl.replace(/^http/, 'ws')}${gateway.config.sip.wsPath}` },
    });
  });

  it('publishes only public encryption keys at /.well-known/jwks.json', async () => {
    const body = (await (await fetch(`${gateway.httpUrl}/.well-known/jwks.json`)).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'X25519', use: 'enc' });
    expect(body.keys[0]).not.toHaveProperty('d');
  });

  it('checks a token without using it up, and never returns private claims', async () => {
    const token = await issue();
    for (let i = 0; i < 2; i += 1) {
      const res = await fetch(`${gateway.httpUrl}/v1/tokens/check`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain('secret-C-1');
      expect(JSON.parse(text)).toMatchObject({
        ok: true,
        claims: { iss: 'acme', sub: 's1' },
        privateClaimNames: ['customerId'],
      });
    }
  });

  it('refuses a bad token with its reason code, and counts it in /metrics', async () => {
    const res = await fetch(`${gateway.httpUrl}/v1/tokens/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.test' },
      body: JSON.stringify({ token: await issue() }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ ok: false, error: { code: 'origin_mismatch' } });
    const metrics = await (await fetch(`${gateway.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/parley_tokens_refused_total\{reason="origin_mismatch"\} 1/);
    expect(metrics).toMatch(/parley_tokens_verified_total\{tenant="acme"\} 2/);
  });

  it('serves the widget script for companies’ pages', async () => {
    const res = await fetch(`${gateway.httpUrl}/widget/parley.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect((await res.text()).length).toBeGreaterThan(1000);
  });

  it('answers malformed JSON and unknown paths with the JSON error shape', async () => {
    const bad = await fetch(`${gateway.httpUrl}/v1/tokens/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'bad_request' } });
    const missing = await fetch(`${gateway.httpUrl}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
