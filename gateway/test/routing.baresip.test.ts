/**
 * Value-based routing with real agents: two baresip phones of different tiers,
 * the company's benefit and burden endpoints served here, sipp as the visitor.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bundledScenario,
  runSipp,
  startBaresipAgent,
  stopAll,
  type BaresipAgent,
} from '@parley/testkit';
import { startTestGateway, type TestGateway } from './harness.js';

let provider: Server;
let providerUrl = '';
/** customer id → benefit score; a customer listed in `slow` answers after 2 s. */
const benefits: Record<string, number> = { 'C-GOLD': 500, 'C-NEW': 5 };
const slow = new Set<string>(['C-SLOW']);

let gw: TestGateway;
const agents: Record<string, BaresipAgent> = {};

beforeAll(async () => {
  provider = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const { customerId } = JSON.parse(body) as { customerId: string };
      const answer = () =>
        res
          .setHeader('content-type', 'application/json')
          .end(JSON.stringify({ score: req.url === '/burden' ? 10 : (benefits[customerId] ?? 0) }));
      if (slow.has(customerId)) setTimeout(answer, 2000);
      else answer();
    });
  });
  await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
  providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  gw = await startTestGateway({
    agents: [
      { id: 'senior1', tier: 'senior' },
      { id: 'junior1', tier: 'junior' },
    ],
    ringTimeoutSeconds: 3,
    queueExtra: { bands: { high: ['senior', 'junior'], standard: ['junior', 'senior'] } },
    tenantExtra: {
      routing: {
        benefit: {
          url: `${providerUrl}/benefit`,
          timeoutMs: 300,
          retries: 0,
          cacheSeconds: 0,
          default: 0,
        },
        burden: {
          url: `${providerUrl}/burden`,
          timeoutMs: 300,
          retries: 0,
          cacheSeconds: 0,
          default: 0,
        },
        algorithm: {
          kind: 'weighted',
          tiers: [{ name: 'high', minValue: 100 }, { name: 'standard' }],
        },
      },
    },
  });
  for (const id of ['senior1', 'junior1']) {
    agents[id] = await startBaresipAgent({
      user: id,
      password: 'secret',
      registrar: gw.udp,
      answerMode: 'manual',
    });
    await agents[id]!.registered();
  }
});

afterEach(() => {
  for (const a of Object.values(agents)) a.events.removeAllListeners('event');
});

afterAll(async () => {
  await Promise.all(Object.values(agents).map((a) => a.stop()));
  await gw.close();
  await new Promise<void>((r) => provider.close(() => r()));
  await stopAll();
});

interface Routed {
  agentId: string;
  attempts: { agentId: string; status: number; reason?: string }[];
  routing: {
    value: number;
    tier: string;
    benefit: { fallback: boolean; error?: string };
    candidates: { agentId: string }[];
    algorithm: { name: string };
  };
}

async function callAs(customerId: string, answerers: string[]): Promise<Routed> {
  for (const id of answerers) {
    const a = agents[id]!;
    a.events.on('event', (e) => {
      if (e.type === 'CALL_INCOMING') void a.accept();
    });
  }
  const token = await gw.token({ privateClaims: { customerId, name: customerId } });
  const result = await runSipp({
    scenario: await bundledScenario('uac-bearer-pcmu'),
    remote: gw.udp,
    service: 'sales',
    calls: 1,
    callDurationMs: 500,
    injection: { rows: [[token]] },
    timeoutMs: 30_000,
  });
  expect(result.stats.successful, result.output).toBe(1);
  for (let i = 0; i < 50 && gw.gateway.calls.size > 0; i += 1)
    await new Promise((r) => setTimeout(r, 100));
  const { body } = await gw.api<{ calls: Routed[] }>('/v1/calls?limit=1');
  return body.calls[0]!;
}

describe('value-based routing', () => {
  it('rings the senior agent first for a high-value customer', async () => {
    const call = await callAs('C-GOLD', ['senior1', 'junior1']);
    expect(call.routing).toMatchObject({
      value: 490,
      tier: 'high',
      algorithm: { name: 'weighted' },
    });
    expect(call.routing.candidates.map((c) => c.agentId)).toEqual(['senior1', 'junior1']);
    expect(call.agentId).toBe('senior1');
  });

  it('rings the junior agent first for a standard customer', async () => {
    const call = await callAs('C-NEW', ['senior1', 'junior1']);
    expect(call.routing.tier).toBe('standard');
    expect(call.agentId).toBe('junior1');
  });

  it('moves on to the next candidate when the senior agent is busy', async () => {
    const senior = agents['senior1']!;
    senior.events.on('event', (e) => {
      if (e.type === 'CALL_INCOMING') void senior.hangup();
    });
    const call = await callAs('C-GOLD', ['junior1']);
    expect(call.attempts.map((a) => [a.agentId, a.status])).toEqual([
      ['senior1', 486],
      ['junior1', 200],
    ]);
  });

  it('cancels an agent who goes away while ringing and rings the next one', async () => {
    const senior = agents['senior1']!;
    senior.events.on('event', (e) => {
      if (e.type === 'CALL_INCOMING') gw.gateway.agents.setAvailability('senior1', 'away');
    });
    try {
      const call = await callAs('C-GOLD', ['junior1']);
      expect(call.agentId).toBe('junior1');
      expect(call.attempts[0]).toMatchObject({ agentId: 'senior1', reason: 'agent_away' });
    } finally {
      gw.gateway.agents.setAvailability('senior1', 'available');
    }
  });

  it('routes with the default value when the benefit provider times out, and says so', async () => {
    const call = await callAs('C-SLOW', ['senior1', 'junior1']);
    expect(call.routing.benefit).toMatchObject({ fallback: true, error: 'timeout' });
    expect(call.routing.tier).toBe('standard');
    expect(call.agentId).toBe('junior1');
  });
});

describe('ringing several agents at once', () => {
  let fork: TestGateway;
  const phones: BaresipAgent[] = [];

  beforeAll(async () => {
    fork = await startTestGateway({
      agents: [{ id: 'first' }, { id: 'second' }],
      ringTimeoutSeconds: 5,
      queueExtra: { strategy: 'simultaneous', ringAtOnce: 2 },
    });
    for (const id of ['first', 'second']) {
      const phone = await startBaresipAgent({
        user: id,
        password: 'secret',
        registrar: fork.udp,
        answerMode: 'manual',
      });
      await phone.registered();
      phones.push(phone);
    }
  });
  afterAll(async () => {
    await Promise.all(phones.map((p) => p.stop()));
    await fork.close();
  });

  it('rings the top two together; the first to answer wins and the other is cancelled as completed elsewhere', async () => {
    const [first, second] = phones as [BaresipAgent, BaresipAgent];
    const mark = first.sipMessages().length;
    second.events.on('event', (e) => {
      if (e.type === 'CALL_INCOMING') setTimeout(() => void second.accept(), 300);
    });
    const result = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: fork.udp,
      service: 'sales',
      calls: 1,
      callDurationMs: 500,
      injection: { rows: [[await fork.token()]] },
      timeoutMs: 30_000,
    });
    expect(result.stats.successful, result.output).toBe(1);
    const cancel = await first.waitForRequest('CANCEL', undefined, 3000, { since: mark });
    expect(cancel.header('reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
    for (let i = 0; i < 50 && fork.gateway.calls.size > 0; i += 1)
      await new Promise((r) => setTimeout(r, 100));
    const { body } = await fork.api<{ calls: Routed[] }>('/v1/calls?limit=1');
    const call = body.calls[0]!;
    expect(call.agentId).toBe('second');
    expect(call.attempts.map((a) => a.agentId).sort()).toEqual(['first', 'second']);
    expect(call.attempts.find((a) => a.agentId === 'first')).toMatchObject({
      reason: 'answered_elsewhere',
    });
  });
});
