/**
 * Two gateways of one cluster on one real redis-server, a baresip phone as
 * the agent and sipp as visitors (issue 16 item 1): an agent registered
 * through gateway A is rung by a call that came to gateway B, "away" chosen on
 * A holds on B, and an agent ringing for a call on A is not offered B's call:
 * B shows it ringing, and before B heard of it the shared slot claim refuses it.
 */
import {
  startBaresipAgent,
  startRedis,
  stopAll,
  until,
  type BaresipAgent,
  type RedisServer,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentPresence } from '../../src/agents/index.js';
import { startTestGateway, testKeys, type TestGateway } from '../harness.js';
import { finalResponse } from '../sipp-log.js';
import { visitorCall as call } from './two-gateways.js';

let redis: RedisServer;
let a: TestGateway;
let b: TestGateway;
const phones: BaresipAgent[] = [];

beforeAll(async () => {
  redis = await startRedis();
  const keys = await testKeys();
  const start = (instanceId: string) =>
    startTestGateway({
      keys,
      agents: [{ id: 'agent1', maxCalls: 1 }, { id: 'agent2' }],
      ringTimeoutSeconds: 3,
      maxAttempts: 1,
      config: {
        media: { address: '127.0.0.1' },
        shared: { instanceId, redis: { url: redis.url, keyPrefix: 'agents-test:' } },
      },
    });
  a = await start('gw-a');
  b = await start('gw-b');
});
afterAll(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await a?.close();
  await b?.close();
  await redis?.stop();
  await stopAll();
});

/** Resolves once the gateway's directory shows the agent as `test` says. */
function presenceOn(
  gw: TestGateway,
  agentId: string,
  test: (p: AgentPresence) => boolean,
): Promise<AgentPresence> {
  const now = gw.gateway.agents.get(agentId);
  if (now && test(now)) return Promise.resolve(now);
  return new Promise((resolve) => {
    const on = (p: AgentPresence) => {
      if (p.id !== agentId || !test(p)) return;
      gw.gateway.agents.off('change', on);
      resolve(p);
    };
    gw.gateway.agents.on('change', on);
  });
}

async function phone(gw: TestGateway, user: string, answerMode: 'auto' | 'manual') {
  const p = await startBaresipAgent({
    user,
    password: 'secret',
    registrar: gw.udp,
    transport: 'udp',
    answerMode,
  });
  phones.push(p);
  await p.registered();
  return p;
}

describe('agents shared through Redis', () => {
  it('rings through gateway B an agent registered through gateway A', async () => {
    const agent = await phone(a, 'agent2', 'auto');
    const onB = await presenceOn(b, 'agent2', (p) => p.registered);
    expect(onB.contacts).toHaveLength(1);
    expect(a.gateway.agents.get('agent2')?.contacts[0]?.uri).toBe(onB.contacts[0]?.uri);
    // The shared hash lapses after the registration (a gone agent does not stay forever).
    const ttl = Number(await redis.cli('pttl', 'agents-test:agent:agent2'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(onB.contacts[0]!.expiresAt - Date.now() + 1000);
    const mark = agent.sipMessages().length;
    const result = await call(b, 'sess-cross');
    expect(result.stats.successful, result.output).toBe(1);
    const invite = await agent.waitForRequest('INVITE', undefined, 5000, { since: mark });
    expect(invite.header('x-parley-session')).toBe('sess-cross');
    const { body } = await b.api<{ calls: { agentId: string; outcome: string }[] }>(
      '/v1/calls?limit=1',
    );
    expect(body.calls[0]).toMatchObject({ agentId: 'agent2', outcome: 'answered' });
  });

  it('holds "away" chosen on A on gateway B, and "available" again', async () => {
    a.gateway.agents.setAvailability('agent2', 'away');
    expect((await presenceOn(b, 'agent2', (p) => p.availability === 'away')).state).toBe('away');
    a.gateway.agents.setAvailability('agent2', 'available');
    await presenceOn(b, 'agent2', (p) => p.availability === 'available');
  });

  it('never offers an agent ringing for a call on A a call that came to B', async () => {
    const agent = await phone(a, 'agent1', 'manual');
    await presenceOn(b, 'agent1', (p) => p.registered);
    // agent2 away: agent1 is the only one for the queue on both gateways.
    a.gateway.agents.setAvailability('agent2', 'away');
    await presenceOn(b, 'agent2', (p) => p.availability === 'away');
    const mark = agent.sipMessages().length;
    const first = call(a, 'sess-first');
    await agent.waitForRequest('INVITE', undefined, 10_000, { since: mark });
    // B shows agent1 ringing (A told it): B's routing passes it over.
    await presenceOn(b, 'agent1', (p) => p.state === 'ringing');
    const second = await call(b, 'sess-second');
    expect(finalResponse(second.messages)?.status).toBeGreaterThanOrEqual(400);
    const { body } = await b.api<{
      calls: { outcome: string; attempts: unknown[]; reason: string }[];
    }>('/v1/calls?limit=1');
    expect(body.calls[0]).toMatchObject({ attempts: [], reason: 'no_agent_available' });
    // A's call rang out unanswered (manual phone): its claim is released.
    expect((await first).stats.successful).toBe(0);
    // One INVITE transaction (by Call-ID: a loaded machine may retransmit it over UDP).
    const invites = agent
      .sipMessages()
      .slice(mark)
      .filter((m) => m.method === 'INVITE' && m.direction === 'in');
    expect(new Set(invites.map((m) => m.header('call-id'))).size).toBe(1);
    const slots = await redis.cli('ZCARD', 'agents-test:agent-slots:agent1');
    expect(slots.trim()).toBe('0');
    await presenceOn(b, 'agent1', (p) => p.state === 'available');
    a.gateway.agents.setAvailability('agent2', 'available');
  });

  it('refuses through the shared claim an agent B has not yet heard is ringing elsewhere', async () => {
    const agent = phones.find((p) => p.user === 'agent1')!;
    a.gateway.agents.setAvailability('agent2', 'away');
    await presenceOn(b, 'agent2', (p) => p.availability === 'away');
    // A claimed agent1's slot (as before ringing it) and has not told its ringing yet.
    expect(await a.gateway.shared.agentLocks.claim('agent1', 1, 'ring-on-a', 60_000)).toBe(true);
    expect(b.gateway.agents.get('agent1')?.state).toBe('available');
    const invites = agent.receivedRequests('INVITE').length;
    const second = await call(b, 'sess-unheard');
    expect(finalResponse(second.messages)?.status).toBeGreaterThanOrEqual(400);
    const { body } = await b.api<{
      calls: { outcome: string; attempts: unknown[]; reason: string }[];
    }>('/v1/calls?limit=1');
    expect(body.calls[0]).toMatchObject({ attempts: [], reason: 'agent_busy' });
    expect(agent.receivedRequests('INVITE')).toHaveLength(invites);
    a.gateway.shared.agentLocks.release('agent1', 'ring-on-a');
    a.gateway.agents.setAvailability('agent2', 'available');
    await presenceOn(b, 'agent2', (p) => p.availability === 'available');
  });
});

describe('an agent taken on another gateway', () => {
  it('is passed over, not counted as a try: the next agent takes the call (maxAttempts 1)', async () => {
    const free = phones.find((p) => p.user === 'agent2')!;
    // agent2 takes a short call on B (agent1 away): on B agent1 is now the longest idle.
    a.gateway.agents.setAvailability('agent1', 'away');
    await presenceOn(b, 'agent1', (p) => p.availability === 'away');
    expect((await call(b, 'sess-warm', 300)).stats.successful).toBe(1);
    await b.callsEnded();
    a.gateway.agents.setAvailability('agent1', 'available');
    await presenceOn(b, 'agent1', (p) => p.availability === 'available');
    // agent1 is taken on A (its slot claimed, as before ringing it; B not told yet).
    expect(await a.gateway.shared.agentLocks.claim('agent1', 1, 'ring-on-a', 60_000)).toBe(true);
    // On B both look free; agent1 ranks first (longest idle there). Its claim is
    // refused: B rings agent2 instead, although the queue allows one attempt.
    expect(b.gateway.agents.get('agent1')?.state).toBe('available');
    const freeMark = free.sipMessages().length;
    const second = await call(b, 'sess-next');
    expect(second.stats.successful, second.output).toBe(1);
    await free.waitForRequest('INVITE', undefined, 5000, { since: freeMark });
    const { body } = await b.api<{ calls: { agentId: string; outcome: string }[] }>(
      '/v1/calls?limit=1',
    );
    expect(body.calls[0]).toMatchObject({ agentId: 'agent2', outcome: 'answered' });
    a.gateway.shared.agentLocks.release('agent1', 'ring-on-a');
  });
});

describe('agent slot claims in Redis', () => {
  it('grants maxCalls claims across gateways, frees released and lapsed ones', async () => {
    const [la, lb] = [a.gateway.shared.agentLocks, b.gateway.shared.agentLocks];
    expect(await la.claim('x', 2, 'h1', 60_000)).toBe(true);
    expect(await lb.claim('x', 2, 'h2', 200)).toBe(true);
    expect(await lb.claim('x', 2, 'h3', 60_000)).toBe(false);
    // The same holder claiming again renews, it takes no second slot.
    expect(await la.claim('x', 2, 'h1', 60_000)).toBe(true);
    la.release('x', 'h1');
    // The release goes out on A's connection, the claim on B's: B may be first (the gateways' own traffic).
    expect(await until(() => lb.claim('x', 2, 'h3', 60_000), 'h1’s release in Redis')).toBe(true);
    expect(await la.claim('x', 2, 'h4', 60_000)).toBe(false);
    // h2 lapses (200 ms by Redis's clock): its slot comes free without a release.
    expect(await until(() => la.claim('x', 2, 'h4', 60_000), 'h2’s claim lapsed')).toBe(true);
  });
});
