/**
 * Agents managed through `/v1/agents` with real peers: created over the API, a
 * baresip phone registers with the new credentials (MD5) and takes a sipp
 * visitor's call; our own client registers with SHA-256 and MD5 against the
 * stored H(A1) values; the desk signs in with the same password; a password change signs the
 * desk out and refuses the old password; a deleted agent's phone loses its
 * binding and calls no longer reach it; a restarted gateway still knows the
 * agents it stored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundledScenario,
  runSipp,
  startBaresipAgent,
  stopAll,
  type BaresipAgent,
} from '@parley/testkit';
import { startTestGateway, type TestGateway } from './harness.js';
import { RawSipClient } from './raw-sip.js';

const PASSWORD = 'api-made-secret-1';
let dir: string;
let gw: TestGateway;
let phone: BaresipAgent | undefined;
let client: RawSipClient;

const start = () =>
  startTestGateway({
    // Only the config file's own agent, in another queue: calls to sales reach API agents only.
    agents: [{ id: 'configured', queues: ['support'] }],
    config: {
      storage: { path: join(dir, 'parley.db') },
      queues: {
        sales: { tenant: 'acme', ringTimeoutSeconds: 10, maxAttempts: 3 },
        support: { tenant: 'acme' },
      },
    },
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-agents-api-'));
  gw = await start();
  client = await RawSipClient.open();
});
afterAll(async () => {
  client.close();
  await phone?.stop();
  await gw?.close();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

interface AgentJson {
  id: string;
  username: string;
  source: string;
  registered: boolean;
  state: string;
  tier: string | null;
}

async function deskLogin(username: string, password: string) {
  const res = await fetch(`${gw.gateway.httpUrl}/desk/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, cookie: res.headers.get('set-cookie')?.split(';')[0] ?? '' };
}
const deskMe = async (cookie: string) => {
  const res = await fetch(`${gw.gateway.httpUrl}/desk/api/me`, { headers: { cookie } });
  return { status: res.status, body: (await res.json()) as { sip?: { username: string } } };
};

async function call(subject: string) {
  return runSipp({
    scenario: await bundledScenario('uac-bearer-pcmu'),
    remote: gw.udp,
    service: 'sales',
    calls: 1,
    callDurationMs: 1000,
    injection: { rows: [[await gw.token({ subject })]] },
    timeoutMs: 30_000,
  });
}

describe('agents managed through /v1/agents', () => {
  it('creates an agent; a baresip phone registers with its password and answers a visitor', async () => {
    const created = await gw.apiRequest<AgentJson>('PUT', '/v1/agents/ada', {
      // The test API key serves every tenant: the body names one.
      tenant: 'acme',
      username: 'ada.l',
      password: PASSWORD,
      queues: ['sales'],
      tier: 'senior',
      displayName: 'Ada',
      // baresip 1.0 fails on a SHA-256 challenge instead of skipping it.
      digestAlgorithms: ['MD5'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'ada',
      username: 'ada.l',
      source: 'api',
      state: 'offline',
    });
    expect(JSON.stringify(created.body)).not.toContain(PASSWORD);

    phone = await startBaresipAgent({
      user: 'ada.l',
      password: PASSWORD,
      registrar: gw.udp,
      transport: 'udp',
    });
    await phone.registered();
    expect((await gw.api<AgentJson>('/v1/agents/ada')).body).toMatchObject({
      registered: true,
      state: 'available',
    });

    const since = phone.sipMessages().length;
    const result = await call('web-sess-api-1');
    expect(result.stats.successful, result.output).toBe(1);
    const invite = await phone.waitForRequest('INVITE', undefined, 5000, { since });
    expect(invite.header('x-parley-session')).toBe('web-sess-api-1');
    const calls = await gw.api<{ calls: { agentId: string; outcome: string }[] }>('/v1/calls');
    expect(calls.body.calls[0]).toMatchObject({ agentId: 'ada', outcome: 'answered' });
  });

  it('checks digest against the stored H(A1), and the desk password too', async () => {
    const ok = await client.register(
      gw.udp,
      'ada.l',
      PASSWORD,
      ['<sip:ada-raw@127.0.0.1:5097>;expires=60'],
      [],
      'MD5',
    );
    expect(ok.status).toBe(200);
    const wrong = await client.register(
      gw.udp,
      'ada.l',
      'not-the-password',
      ['<sip:x@127.0.0.1:5097>'],
      [],
      'MD5',
    );
    expect(wrong.status).toBe(403);

    expect((await deskLogin('ada.l', 'not-the-password')).status).toBe(401);
    const desk = await deskLogin('ada.l', PASSWORD);
    expect(desk.status).toBe(200);
    const me = await deskMe(desk.cookie);
    expect(me.status).toBe(200);
    expect(me.body.sip?.username).toBe('ada.l');
  });

  it('a password change signs the desk out and refuses the old password', async () => {
    const desk = await deskLogin('ada.l', PASSWORD);
    const changed = await gw.apiRequest('PUT', '/v1/agents/ada', {
      tenant: 'acme',
      username: 'ada.l',
      password: `${PASSWORD}-v2`,
      queues: ['sales'],
      digestAlgorithms: ['MD5'],
    });
    expect(changed.status).toBe(200);
    expect((await deskMe(desk.cookie)).status).toBe(401);
    expect(
      (await client.register(gw.udp, 'ada.l', PASSWORD, ['<sip:y@127.0.0.1:5097>'], [], 'MD5'))
        .status,
    ).toBe(403);
    const fresh = await client.register(
      gw.udp,
      'ada.l',
      `${PASSWORD}-v2`,
      ['<sip:ada-raw@127.0.0.1:5097>;expires=60'],
      [],
      'MD5',
    );
    expect(fresh.status).toBe(200);
    // The phone's registration made before the change still stands.
    expect((await gw.api<AgentJson>('/v1/agents/ada')).body.registered).toBe(true);
  });

  it('refuses bad bodies and conflicts with a reason, and agents of the config file', async () => {
    const bad = await gw.apiRequest<{ error: { code: string; detail: string } }>(
      'PUT',
      '/v1/agents/bob',
      { tenant: 'acme', password: 'short', queues: ['sales'] },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: 'bad_request',
      detail: expect.stringMatching(/^password:/),
    });
    const taken = await gw.apiRequest<{ error: { code: string; detail: string } }>(
      'PUT',
      '/v1/agents/bob',
      { tenant: 'acme', username: 'ada.l', password: PASSWORD, queues: ['sales'] },
    );
    expect(taken.status).toBe(409);
    expect(taken.body.error.detail).toBe('the username "ada.l" is taken');
    const configured = await gw.apiRequest('PUT', '/v1/agents/configured', {
      tenant: 'acme',
      password: PASSWORD,
      queues: ['sales'],
    });
    expect(configured.status).toBe(409);
    const notJson = await fetch(`${gw.gateway.httpUrl}/v1/agents/bob`, {
      method: 'PUT',
      headers: { authorization: 'Bearer nope', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(notJson.status).toBe(401);
  });

  it('deletes an agent: its phone loses the binding and calls no longer reach it', async () => {
    const since = phone!.sipMessages().length;
    expect((await gw.apiRequest('DELETE', '/v1/agents/ada')).status).toBe(204);
    expect((await gw.api('/v1/agents/ada')).status).toBe(404);
    const result = await call('web-sess-api-2');
    expect(result.stats.failed).toBe(1);
    const record = (await gw.api<{ calls: { outcome: string; reason: string }[] }>('/v1/calls'))
      .body.calls[0];
    expect(record).toMatchObject({ outcome: 'no_agent', reason: 'no_agent_available' });
    expect(
      phone!
        .sipMessages()
        .slice(since)
        .some((m) => m.startLine.startsWith('INVITE')),
    ).toBe(false);
    expect(
      (
        await client.register(
          gw.udp,
          'ada.l',
          `${PASSWORD}-v2`,
          ['<sip:z@127.0.0.1:5097>'],
          [],
          'MD5',
        )
      ).status,
      // Refused like any unknown user or wrong password (issue 17: answered alike).
    ).toBe(403);
    expect((await gw.apiRequest('DELETE', '/v1/agents/ada')).status).toBe(404);
  });

  it('keeps API-made agents across a restart of the gateway', async () => {
    const made = await gw.apiRequest('PUT', '/v1/agents/cy', {
      tenant: 'acme',
      password: PASSWORD,
      queues: ['sales'],
      tier: 'junior',
    });
    expect(made.status).toBe(201);
    await gw.close();
    gw = await start();
    expect((await gw.api<AgentJson>('/v1/agents/cy')).body).toMatchObject({
      id: 'cy',
      source: 'api',
      tier: 'junior',
    });
    expect((await gw.api('/v1/agents/ada')).status).toBe(404);
    // SHA-256 (the default challenge) and MD5, both against the stored H(A1) values.
    const sha256 = await client.register(gw.udp, 'cy', PASSWORD, ['<sip:cy@127.0.0.1:5097>']);
    expect(sha256.status).toBe(200);
    const md5 = await client.register(
      gw.udp,
      'cy',
      PASSWORD,
      ['<sip:cy@127.0.0.1:5096>'],
      [],
      'MD5',
    );
    expect(md5.status).toBe(200);
    expect((await gw.api<{ contacts: unknown[] }>('/v1/agents/cy')).body.contacts).toHaveLength(2);
  });
});
