/**
 * The agent desk's backend beside a real SIP phone: sign-in, the events socket
 * showing the ringing call's context, answer and end, chat stored with the
 * call, availability respected by routing, and tenant isolation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  bundledScenario,
  runSipp,
  startBaresipAgent,
  stopAll,
  type BaresipAgent,
} from '@parley/testkit';
import { startTestGateway, type TestGateway } from './harness.js';
import { finalResponse } from './sipp-log.js';

let gw: TestGateway;
let phone: BaresipAgent;

beforeAll(async () => {
  gw = await startTestGateway({
    agents: [{ id: 'agent1' }, { id: 'rival', tenant: 'globex', queues: ['globex'] }],
    otherTenants: ['globex'],
    ringTimeoutSeconds: 5,
  });
  phone = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: gw.udp,
    answerMode: 'manual',
  });
  await phone.registered();
});
afterAll(async () => {
  await phone.stop();
  await gw.close();
  await stopAll();
});

async function login(username: string, password: string) {
  const res = await fetch(`${gw.gateway.httpUrl}/desk/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return {
    status: res.status,
    cookie: res.headers.get('set-cookie')?.split(';')[0] ?? '',
    body: (await res.json()) as Record<string, unknown>,
  };
}

describe('agent desk backend', () => {
  it('refuses a wrong password and unauthenticated requests', async () => {
    expect((await login('agent1', 'nope')).status).toBe(401);
    expect((await login('nobody', 'secret')).status).toBe(401);
    expect((await fetch(`${gw.gateway.httpUrl}/desk/api/me`)).status).toBe(401);
  });

  it('shows the ringing call with its context, then answered, chat and ended', async () => {
    const { status, cookie } = await login('agent1', 'secret');
    expect(status).toBe(200);
    const me = (await (
      await fetch(`${gw.gateway.httpUrl}/desk/api/me`, { headers: { cookie } })
    ).json()) as { sip: { username: string; domain: string } };
    expect(me.sip).toMatchObject({ username: 'agent1', domain: 'parley.test' });

    const events: {
      type: string;
      call?: Record<string, unknown>;
      callId?: string;
      stored?: { from: string };
    }[] = [];
    const ws = new WebSocket(`${gw.gateway.httpUrl.replace('http', 'ws')}/desk/api/events`, {
      headers: { cookie },
    });
    ws.on('message', (d) => events.push(JSON.parse(d.toString()) as (typeof events)[number]));
    await new Promise((r) => ws.once('open', r));
    // Another tenant's agent, signed in at the same time, sees none of it.
    const rival = await login('rival', 'secret');
    expect(rival.status).toBe(200);
    const rivalEvents: typeof events = [];
    const rivalWs = new WebSocket(`${gw.gateway.httpUrl.replace('http', 'ws')}/desk/api/events`, {
      headers: { cookie: rival.cookie },
    });
    rivalWs.on('message', (d) =>
      rivalEvents.push(JSON.parse(d.toString()) as (typeof events)[number]),
    );
    await new Promise((r) => rivalWs.once('open', r));

    phone.events.on('event', (e) => {
      if (e.type === 'CALL_INCOMING') setTimeout(() => void phone.accept(), 300);
      if (e.type === 'CALL_ESTABLISHED') setTimeout(() => void phone.hangup(), 1200);
    });
    const token = await gw.token({
      subject: 'desk-session',
      privateClaims: { customerId: 'C-42', name: 'Grace Hopper', tier: 'gold' },
    });
    const call = runSipp({
      scenario: await bundledScenario('uac-bearer-await-bye'),
      remote: gw.udp,
      service: 'sales',
      calls: 1,
      injection: { rows: [[token]] },
      timeoutMs: 30_000,
    });

    await expect.poll(() => events.find((e) => e.type === 'ring'), { timeout: 5000 }).toBeDefined();
    const ring = events.find((e) => e.type === 'ring')!.call!;
    expect(ring).toMatchObject({
      sessionId: 'desk-session',
      privateClaims: { customerId: 'C-42', name: 'Grace Hopper' },
      queue: 'sales',
    });
    expect(String(ring['sessionNumber'])).toMatch(/^\+1555/);

    await expect
      .poll(() => events.some((e) => e.type === 'answered'), { timeout: 5000 })
      .toBe(true);
    const callId = String(events.find((e) => e.type === 'answered')!.call!['callId']);
    rivalWs.send(JSON.stringify({ type: 'chat', callId, text: 'Psst, switch to us' }));
    await expect
      .poll(() => rivalEvents.find((e) => e.type === 'notice'), { timeout: 3000 })
      .toMatchObject({ code: 'message_rejected' });
    ws.send(JSON.stringify({ type: 'chat', callId, text: 'How can I help?' }));
    await expect
      .poll(() => events.some((e) => e.type === 'message' && e.stored?.from === 'agent'), {
        timeout: 3000,
      })
      .toBe(true);

    expect((await call).stats.successful).toBe(1);
    await expect.poll(() => events.some((e) => e.type === 'ended'), { timeout: 5000 }).toBe(true);
    ws.close();
    phone.events.removeAllListeners('event');

    const detail = (await (
      await fetch(`${gw.gateway.httpUrl}/desk/api/calls/${callId}`, { headers: { cookie } })
    ).json()) as { messages: { from: string; message: { text: string } }[] };
    expect(detail.messages.map((m) => [m.from, m.message.text])).toEqual([
      ['agent', 'How can I help?'],
    ]);
    const recent = (await (
      await fetch(`${gw.gateway.httpUrl}/desk/api/calls`, { headers: { cookie } })
    ).json()) as { calls: { id: string }[] };
    expect(recent.calls[0]?.id).toBe(callId);

    rivalWs.close();
    expect(
      rivalEvents.map((e) => e.type).filter((t) => t !== 'presence' && t !== 'notice'),
    ).toEqual([]);
    const peek = await fetch(`${gw.gateway.httpUrl}/desk/api/calls/${callId}`, {
      headers: { cookie: rival.cookie },
    });
    expect(peek.status).toBe(404);
    const rivalRecent = (await (
      await fetch(`${gw.gateway.httpUrl}/desk/api/calls`, { headers: { cookie: rival.cookie } })
    ).json()) as { calls: { id: string }[] };
    expect(rivalRecent.calls).toEqual([]);
  });

  it('routes no call to an agent who is away', async () => {
    const { cookie } = await login('agent1', 'secret');
    const set = async (availability: string) =>
      fetch(`${gw.gateway.httpUrl}/desk/api/availability`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ availability }),
      });
    expect((await set('away')).status).toBe(200);
    const result = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: gw.udp,
      service: 'sales',
      calls: 1,
      injection: { rows: [[await gw.token()]] },
      timeoutMs: 15_000,
    });
    expect(finalResponse(result.messages)?.header('Reason')).toBe(
      'SIP;cause=480;text="no_agent_available"',
    );
    expect((await set('available')).status).toBe(200);
    expect((await set('lunch')).status).toBe(400);
  });
});
