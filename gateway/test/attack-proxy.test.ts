/**
 * Attack (issue 17 item 7): escaping the desk sign-in's per-address limit by
 * rotating `X-Forwarded-For` from a host that is no proxy. Only the proxies
 * listed in `http.trustProxy` are believed; behind one, each forwarded client
 * has its own budget, and guessing one agent's password from many addresses
 * is limited per username.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';

let direct: TestGateway;
let proxied: TestGateway;

beforeAll(async () => {
  [direct, proxied] = await Promise.all([
    startTestGateway(),
    startTestGateway({
      config: { http: { host: '127.0.0.1', port: 0, trustProxy: ['127.0.0.1'] } },
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([direct?.close(), proxied?.close()]);
});

async function signIn(gw: TestGateway, username: string, forwardedFor: string): Promise<number> {
  const res = await fetch(`${gw.gateway.httpUrl}/desk/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ username, password: 'wrong password' }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('the desk sign-in behind (or not behind) a proxy', () => {
  it('is limited per address however X-Forwarded-For rotates, when the peer is no proxy', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i += 1)
      statuses.push(await signIn(direct, `user-${i}`, `198.51.100.${i + 1}`));
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
  });

  it('counts each forwarded client apart behind a trusted proxy', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i += 1)
      statuses.push(await signIn(proxied, `user-${i}`, `198.51.100.${i + 1}`));
    expect(statuses.every((s) => s === 401)).toBe(true);
  });

  it('limits guesses at one username from many forwarded addresses', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i += 1)
      statuses.push(await signIn(proxied, 'agent1', `203.0.113.${i + 1}`));
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
  });
});
