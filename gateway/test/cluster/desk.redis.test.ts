/**
 * An agent's desk sees the agent's calls on every gateway of a cluster
 * (issue 16 item 1, "the fan-out of desk events between gateways"). Two
 * gateways on one redis-server; the agent's phone (baresip) registered with
 * A; the agent's desk signed in on B; a sipp visitor calls through A.
 * - B's desk gets the ringing call with its context, the answer, then the end.
 * - The desk's chat for the call, sent to B, is stored with the call on A and
 *   comes back to the desk as a stored message.
 * - A second desk connecting to B mid-call catches up (the call, its chat).
 * - Another tenant's agent, signed in on B, cannot chat into the call.
 */
import { bundledScenario, runSipp, type BaresipAgent } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deskSocket } from '../desk-socket.js';
import type { TestGateway } from '../harness.js';
import { twoGatewaysOnRedis, type TwoGateways } from './two-gateways.js';

let cluster: TwoGateways;
let a: TestGateway;
let b: TestGateway;
let phone: BaresipAgent;

beforeAll(async () => {
  cluster = await twoGatewaysOnRedis({
    keyPrefix: 'desk-test:',
    gateway: {
      agents: [{ id: 'agent1' }, { id: 'rival', tenant: 'globex', queues: ['globex'] }],
      otherTenants: ['globex'],
    },
    phone: { answerMode: 'auto' },
  });
  ({ a, b, phone } = cluster);
});
afterAll(async () => {
  await cluster?.close();
});

describe('desk events across gateways', () => {
  it("shows a call on A to the agent's desk on B; chat from B is stored on A", async () => {
    const desk = await deskSocket(b.gateway.httpUrl, 'agent1', 'secret');
    const rival = await deskSocket(b.gateway.httpUrl, 'rival', 'secret');
    const token = await a.token({
      subject: 'desk-cluster',
      privateClaims: { customerId: 'C-7', name: 'Ada Lovelace' },
    });
    const call = runSipp({
      scenario: await bundledScenario('uac-bearer-await-bye'),
      remote: a.udp,
      service: 'sales',
      calls: 1,
      injection: { rows: [[token]] },
      timeoutMs: 30_000,
    });
    const ring = (await desk.frame((f) => f['type'] === 'ring'))['call'] as Record<string, unknown>;
    expect(ring).toMatchObject({
      sessionId: 'desk-cluster',
      privateClaims: { customerId: 'C-7', name: 'Ada Lovelace' },
      queue: 'sales',
    });
    const callId = String(ring['callId']);
    expect(a.gateway.calls.get(callId)).toBeDefined();
    expect(b.gateway.calls.get(callId)).toBeUndefined();
    await desk.frame((f) => f['type'] === 'answered');

    // Another tenant's agent on B: forwarded to A, which refuses it (never stored).
    rival.ws.send(JSON.stringify({ type: 'chat', callId, text: 'Psst, switch to us' }));
    desk.ws.send(JSON.stringify({ type: 'chat', callId, text: 'How can I help?' }));
    const echoed = await desk.frame((f) => f['type'] === 'message');
    expect(echoed).toMatchObject({
      callId,
      stored: { from: 'agent', message: { text: 'How can I help?' } },
    });

    // A second desk on B catches up: the answered call and its chat.
    const late = await deskSocket(b.gateway.httpUrl, 'agent1', 'secret');
    const caughtUp = await late.frame((f) => f['type'] === 'answered');
    expect((caughtUp['call'] as Record<string, unknown>)['callId']).toBe(callId);
    await late.frame((f) => f['type'] === 'message');

    await phone.hangup();
    expect((await call).stats.successful).toBe(1);
    const ended = await desk.frame((f) => f['type'] === 'ended');
    expect(ended).toMatchObject({ callId, outcome: 'answered' });
    await a.callsEnded();
    const stored = await a.api<{ messages: { from: string; message: { text: string } }[] }>(
      `/v1/calls/${callId}`,
    );
    expect(stored.body.messages.map((m) => [m.from, m.message.text])).toEqual([
      ['agent', 'How can I help?'],
    ]);
    expect(rival.frames.some((f) => f['type'] === 'ring' || f['type'] === 'message')).toBe(false);
    for (const s of [desk, rival, late]) s.ws.close();
  });
});
