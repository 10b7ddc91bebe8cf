/**
 * The B2BUA with real peers: sipp places visitor calls with a call token, a
 * baresip agent registers with digest auth and answers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  analyse,
  bundledScenario,
  runSipp,
  startBaresipAgent,
  stopAll,
  type BaresipAgent,
} from '@parley/testkit';
import { startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;
let agent: BaresipAgent;

beforeAll(async () => {
  gw = await startTestGateway({
    agents: [{ id: 'agent1' }],
    tenantExtra: { callerNumbers: [{ from: '+14155550140', to: '+14155550149' }] },
  });
  agent = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: gw.udp,
    transport: 'udp',
  });
  await agent.registered();
});

afterAll(async () => {
  await agent?.stop();
  await gw?.close();
  await stopAll();
});

afterEach(() => {
  expect(gw.gateway.calls.size).toBe(0);
});

describe('B2BUA over UDP with a baresip agent', () => {
  it('shows the agent registered at /v1/agents', async () => {
    const { status, body } = await gw.api<{
      agents: { id: string; registered: boolean; state: string; contacts: { uri: string }[] }[];
    }>('/v1/agents');
    expect(status).toBe(200);
    expect(body.agents[0]).toMatchObject({ id: 'agent1', registered: true, state: 'available' });
    expect(body.agents[0]?.contacts[0]?.uri).toMatch(/^sip:agent1-/);
  });

  it('bridges a call: the agent gets the session number, PAI and X-Parley-Session, audio flows both ways', async () => {
    const since = agent.sipMessages().length;
    const token = await gw.token({
      subject: 'web-sess-A',
      privateClaims: { customerId: 'C-9', name: 'Ada Lovelace' },
    });
    const result = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: gw.udp,
      service: 'sales',
      calls: 1,
      callDurationMs: 3000,
      injection: { rows: [[token]] },
      timeoutMs: 30_000,
    });
    expect(result.stats.successful, result.output).toBe(1);

    const invite = await agent.waitForRequest('INVITE', undefined, 5000, { since });
    const number = /^"Ada Lovelace" <sip:(\+1555\d{4})@parley\.test>/.exec(
      invite.header('from') ?? '',
    )?.[1];
    expect(number, invite.raw).toBeDefined();
    expect(invite.header('p-asserted-identity')).toBe(`"Ada Lovelace" <sip:${number}@parley.test>`);
    expect(invite.header('x-parley-session')).toBe('web-sess-A');
    // Topology hiding: nothing of the visitor leg reaches the agent.
    expect(invite.raw).not.toMatch(/Bearer|SIPpTag|visitor@/);

    const { received } = agent.lastRecording();
    expect(received).toBeDefined();
    const heard = await analyse(received!);
    expect(heard.rms).toBeGreaterThan(0.05);
    expect(heard.roughFrequencyHz).toBeGreaterThan(900);
    expect(heard.roughFrequencyHz).toBeLessThan(1100);

    const calls = await gw.api<{
      calls: {
        sessionNumber: string;
        outcome: string;
        agentId: string;
        media: { agent: { packetsIn: number }; visitor: { packetsIn: number } };
      }[];
    }>('/v1/calls');
    const record = calls.body.calls[0];
    expect(record).toMatchObject({ sessionNumber: number, outcome: 'answered', agentId: 'agent1' });
    // The agent's tone reached the gateway too (sent back toward the visitor).
    expect(record?.media.agent.packetsIn).toBeGreaterThan(50);
    expect(record?.media.visitor.packetsIn).toBeGreaterThan(50);
  });

  it("presents the number the company's token names when it lies in the tenant's blocks (S6)", async () => {
    const since = agent.sipMessages().length;
    const token = await gw.token({
      subject: 'web-sess-B',
      privateClaims: { name: 'Grace Hopper', callerNumber: '+14155550143' },
    });
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
    const invite = await agent.waitForRequest('INVITE', undefined, 5000, { since });
    expect(invite.header('from')).toMatch(/^"Grace Hopper" <sip:\+14155550143@parley\.test>;tag=/);
    expect(invite.header('p-asserted-identity')).toBe(
      '"Grace Hopper" <sip:+14155550143@parley.test>',
    );
  });
});
