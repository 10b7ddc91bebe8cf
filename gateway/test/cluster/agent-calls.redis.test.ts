/**
 * An agent's calls shown on every gateway of a cluster (issue 16 item 1,
 * "agent registrations and presence"): two gateways on one redis-server, the
 * agent's phone (baresip, answering by hand) registered with A, a sipp visitor
 * calling through A. On B the agent shows ringing, then busy once the phone
 * answers, then available once it hangs up: in B's directory (what routing
 * reads), its API and the desk's presence frames. Before, B showed the agent
 * available throughout (it counted only its own calls).
 */
import { bundledScenario, runSipp, type BaresipAgent } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deskSocket, type DeskSocket } from '../desk-socket.js';
import type { TestGateway } from '../harness.js';
import { twoGatewaysOnRedis, type TwoGateways } from './two-gateways.js';

let cluster: TwoGateways;
let a: TestGateway;
let b: TestGateway;
let phone: BaresipAgent;

beforeAll(async () => {
  cluster = await twoGatewaysOnRedis({
    keyPrefix: 'agent-calls-test:',
    gateway: { agents: [{ id: 'agent1', maxCalls: 1 }], ringTimeoutSeconds: 20 },
    phone: { answerMode: 'manual' },
    bHearsPhone: true,
  });
  ({ a, b, phone } = cluster);
});
afterAll(async () => {
  await cluster?.close();
});

/** The desk's first presence frame since frame `since` showing `state`. */
async function presence(desk: DeskSocket, state: string, since: number) {
  const frame = await desk.frame(
    (f) =>
      desk.frames.indexOf(f) >= since &&
      f['type'] === 'presence' &&
      (f['agent'] as Record<string, unknown>)['state'] === state,
  );
  return frame['agent'] as Record<string, unknown>;
}

async function apiState(gw: TestGateway): Promise<unknown> {
  const { body } = await gw.api<{ state: string; ringing: number; activeCalls: number }>(
    '/v1/agents/agent1',
  );
  return body;
}

describe('an agent’s calls across gateways', () => {
  it('shows an agent rung through A as ringing, then busy, then available on B', async () => {
    const desk = await deskSocket(b.gateway.httpUrl, 'agent1', 'secret');
    await presence(desk, 'available', 0);
    const mark = phone.sipMessages().length;
    const since = desk.frames.length;
    const call = runSipp({
      scenario: await bundledScenario('uac-bearer-await-bye'),
      remote: a.udp,
      service: 'sales',
      calls: 1,
      injection: { rows: [[await a.token({ subject: 'sess-shown' })]] },
      timeoutMs: 40_000,
    });
    await phone.waitForRequest('INVITE', undefined, 10_000, { since: mark });

    expect(await presence(desk, 'ringing', since)).toMatchObject({ activeCalls: 0 });
    expect(b.gateway.agents.get('agent1')).toMatchObject({ state: 'ringing', ringing: 1 });
    expect(await apiState(b)).toMatchObject({ state: 'ringing', ringing: 1, activeCalls: 0 });

    await phone.accept();
    expect(await presence(desk, 'busy', since)).toMatchObject({ activeCalls: 1 });
    expect(b.gateway.agents.get('agent1')).toMatchObject({ state: 'busy', activeCalls: 1 });
    expect(await apiState(b)).toMatchObject({ state: 'busy', ringing: 0, activeCalls: 1 });
    // What A tells lasts a lease and is renewed: in Redis for a gateway started now.
    const field = await cluster.redis.cli('HGET', 'agent-calls-test:agent-calls:agent1', 'gw-a');
    expect(JSON.parse(field)).toMatchObject({ ringing: 0, activeCalls: 1 });
    const late = await cluster.startAnother('gw-c');
    expect(late.gateway.agents.get('agent1')).toMatchObject({ state: 'busy', activeCalls: 1 });

    await phone.hangup();
    expect(await presence(desk, 'available', since)).toMatchObject({ activeCalls: 0 });
    expect(await apiState(b)).toMatchObject({ state: 'available', ringing: 0, activeCalls: 0 });
    expect((await call).stats.successful).toBe(1);
    // No calls left: A's field is gone.
    expect(
      (await cluster.redis.cli('HEXISTS', 'agent-calls-test:agent-calls:agent1', 'gw-a')).trim(),
    ).toBe('0');
    desk.ws.close();
  });
});
