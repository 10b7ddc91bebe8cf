/**
 * TURN credentials the gateway mints (`media.turn`, `POST /v1/ice-servers`)
 * against a real coturn with the same shared secret: a real TURN client
 * allocates with them and relays over UDP and TCP; expired credentials and
 * credentials of another secret are refused by coturn; the secret itself is
 * never handed out.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { turnRestCredentials } from '@parley/shared/turn';
import { probeTurn, startCoturn, type Coturn } from '@parley/testkit';
import { API_KEY, TENANT, startTestGateway, type TestGateway } from './harness.js';

const SECRET = randomBytes(24).toString('base64url');
const TENANT_KEY = 'acme-only-api-key-0123456789';
/** What a company's token endpoint needs, and nothing more. */
const MINT_KEY = 'acme-mint-only-key-0123456789';

interface IceServersBody {
  iceServers: { urls: string[]; username: string; credential: string }[];
  iceTransportPolicy: string;
  expiresAt: string;
  ttlSeconds: number;
}

let coturn: Coturn;
let gw: TestGateway;

beforeAll(async () => {
  coturn = await startCoturn({ secret: SECRET });
  gw = await startTestGateway({
    mediaExtra: {
      iceServers: [{ urls: 'stun:127.0.0.1:3478' }],
      turn: { urls: coturn.urls, secret: SECRET, ttlSeconds: 600 },
      iceTransportPolicy: 'relay',
    },
    config: {
      api: {
        keys: [
          { id: 'test', key: API_KEY, privateClaims: true },
          { id: 'acme', key: TENANT_KEY, tenant: TENANT },
          { id: 'acme-mint', key: MINT_KEY, tenant: TENANT, scopes: ['ice-servers'] },
        ],
      },
    },
  });
});

afterAll(async () => {
  await gw?.gateway.close();
  await coturn?.stop();
});

async function iceServers(key = TENANT_KEY) {
  const res = await fetch(`${gw.gateway.httpUrl}/v1/ice-servers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
  });
  return { status: res.status, cache: res.headers.get('cache-control'), body: await res.json() };
}

describe('TURN credentials minted by the gateway', () => {
  it('answers the static servers, fresh TURN credentials and the relay policy', async () => {
    const before = Date.now();
    const { status, cache, body } = await iceServers();
    expect(status).toBe(200);
    expect(cache).toBe('no-store');
    const answer = body as IceServersBody;
    expect(answer.iceTransportPolicy).toBe('relay');
    expect(answer.iceServers[0]).toEqual({ urls: 'stun:127.0.0.1:3478' });
    const turn = answer.iceServers[1];
    expect(turn?.urls).toEqual(coturn.urls);
    // expiry:user, the user being the API key's tenant.
    const [expiry, user] = (turn?.username ?? '').split(':');
    expect(user).toBe(TENANT);
    expect(Number(expiry) * 1000).toBeGreaterThanOrEqual(
      Math.floor(before / 1000) * 1000 + 600_000,
    );
    expect(Date.parse(answer.expiresAt)).toBe(Number(expiry) * 1000);
    expect(answer.ttlSeconds).toBe(600);
    expect(JSON.stringify(body)).not.toContain(SECRET);
  });

  it.each(['udp', 'tcp'] as const)(
    'are accepted by coturn, which relays over %s',
    async (transport) => {
      const turn = ((await iceServers()).body as IceServersBody).iceServers[1];
      if (!turn) throw new Error('no TURN server in the answer');
      const probe = await probeTurn(coturn, turn, transport);
      expect(probe.ok, probe.output.slice(-2000)).toBe(true);
      expect(probe.received).toBeGreaterThan(0);
    },
  );

  it('stop working at their expiry: coturn refuses the same credentials once their time has passed', async () => {
    const expired = turnRestCredentials({
      secret: SECRET,
      urls: coturn.urls,
      ttlSeconds: 600,
      user: TENANT,
      now: Date.now() - 601_000,
    });
    const probe = await probeTurn(coturn, expired);
    expect(probe.ok).toBe(false);
    expect(probe.received).toBe(0);
    expect(probe.output).toMatch(/Cannot complete Allocation/);
  });

  it('of another secret are refused by coturn', async () => {
    const forged = turnRestCredentials({
      secret: `${SECRET}-not-it`,
      urls: coturn.urls,
      ttlSeconds: 600,
    });
    const probe = await probeTurn(coturn, forged);
    expect(probe.ok).toBe(false);
    expect(probe.received).toBe(0);
    expect(probe.output).toMatch(/Cannot complete Allocation/);
  });

  it('need an API key', async () => {
    const res = await fetch(`${gw.gateway.httpUrl}/v1/ice-servers`, { method: 'POST' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const wrong = await iceServers('not-a-key-0123456789');
    expect(wrong.status).toBe(401);
  });

  it('need only the ice-servers scope, which reads nothing else', async () => {
    const { status, body } = await iceServers(MINT_KEY);
    expect(status).toBe(200);
    expect((body as IceServersBody).iceServers[1]?.username).toMatch(/^\d+:acme$/);
    for (const path of ['/v1/calls', '/v1/agents']) {
      const res = await fetch(`${gw.gateway.httpUrl}${path}`, {
        headers: { authorization: `Bearer ${MINT_KEY}` },
      });
      expect(res.status).toBe(403);
      const error = ((await res.json()) as { error: { code: string; detail: string } }).error;
      expect(error.code).toBe('forbidden');
      expect(error.detail).toMatch(/"read" scope/);
    }
  });

  it('are not in the public client settings, which point to where they are minted', async () => {
    const res = await fetch(`${gw.gateway.httpUrl}/.well-known/parley-gateway.json`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['iceServers']).toEqual([{ urls: 'stun:127.0.0.1:3478' }]);
    expect(body['iceTransportPolicy']).toBe('relay');
    expect(body['turnCredentials']).toBe('/v1/ice-servers');
    expect(JSON.stringify(body)).not.toContain(SECRET);
  });
});
