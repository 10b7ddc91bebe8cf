/**
 * Mid-call signalling through the B2BUA with real peers, the SBC's header
 * scrubbing, and the per-tenant and per-source limits.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  bundledScenario,
  runSipp,
  startBaresipAgent,
  stopAll,
  until,
  type BaresipAgent,
} from '@parley/testkit';
import { startTestGateway, type TestGateway } from './harness.js';
import { RawSipClient, inviteText } from './raw-sip.js';
import { responsesIn } from './sipp-log.js';

/** Waits for `check` to hold (the answers arrive asynchronously), at most 10 s. */
const started: { gw?: TestGateway; agents: BaresipAgent[] } = { agents: [] };
afterEach(async () => {
  await Promise.all(started.agents.splice(0).map((a) => a.stop()));
  await started.gw?.close();
  started.gw = undefined;
});
afterAll(() => stopAll());

async function setup(options: Parameters<typeof startTestGateway>[0] = {}) {
  const gw = await startTestGateway(options);
  started.gw = gw;
  const agent = await startBaresipAgent({ user: 'agent1', password: 'secret', registrar: gw.udp });
  started.agents.push(agent);
  await agent.registered();
  return { gw, agent };
}

describe('mid-call signalling', () => {
  it('forwards hold and resume re-INVITEs and an INFO DTMF to the agent, and strips spoofed identity', async () => {
    const { gw, agent } = await setup();
    const mark = agent.sipMessages().length;
    const result = await runSipp({
      scenario: await bundledScenario('uac-bearer-hold-info'),
      remote: gw.udp,
      service: 'sales',
      calls: 1,
      injection: { rows: [[await gw.token({ subject: 'real-session' })]] },
      timeoutMs: 30_000,
    });
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);

    const fresh = agent
      .sipMessages()
      .slice(mark)
      .filter((m) => m.method === 'INVITE' && m.direction === 'in');
    expect(fresh.length).toBe(3);
    const [initial, hold, resume] = fresh;
    // The spoofed identity never reaches the agent: only the gateway's own.
    expect(initial!.header('x-parley-session')).toBe('real-session');
    expect(initial!.header('p-asserted-identity')).toMatch(/<sip:\+1555\d{4}@parley\.test>/);
    expect(initial!.raw).not.toContain('evil.test');
    expect(hold!.body).toMatch(/a=sendonly/);
    expect(resume!.body).toMatch(/a=sendrecv/);
    // Same dialog on the agent side: one Call-ID, rising CSeq.
    expect(new Set(fresh.map((m) => m.header('call-id'))).size).toBe(1);
    const info = await agent.waitForRequest('INFO', undefined, 2000, { since: mark });
    expect(info.header('content-type')).toBe('application/dtmf-relay');
    expect(info.body).toMatch(/Signal=5/);
  });
});

describe('limits', () => {
  it("refuses a tenant's calls beyond its concurrent-call cap with 503", async () => {
    const { gw } = await setup({
      agents: [{ id: 'agent1', maxCalls: 5 }],
      tenantMaxCalls: 1,
    });
    const tokens = await Promise.all([gw.token(), gw.token()]);
    const result = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: gw.udp,
      service: 'sales',
      calls: 2,
      rate: 10,
      concurrency: 2,
      callDurationMs: 1500,
      injection: { rows: tokens.map((t) => [t]) },
      timeoutMs: 30_000,
    });
    expect(result.stats.successful).toBe(1);
    const refused = responsesIn(result.messages).find((r) => r.status === 503);
    expect(refused?.header('Reason')).toBe('SIP;cause=503;text="tenant_call_limit"');
  });

  it('answers a source over its request rate with 503 and Retry-After', async () => {
    const gw = await startTestGateway({
      config: {
        sip: {
          domain: 'parley.test',
          listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
          rateLimit: { perSecond: 1, burst: 3 },
        },
      },
    });
    started.gw = gw;
    const client = await RawSipClient.open();
    try {
      for (let i = 0; i < 6; i += 1)
        client.send(gw.udp, inviteText({ to: `sales@${gw.udp}`, port: client.port }));
      // Six answers: the burst's three reach the SBC (401, no token), the rest are refused.
      await until(
        () => client.responses().filter((r) => r.status >= 200).length >= 6,
        'six final responses',
      );
      const limited = client.responses(503);
      expect(limited.length).toBeGreaterThanOrEqual(2);
      expect(limited[0]!.headers.get('retry-after')).toBe('5');
      expect(limited[0]!.headers.get('reason')).toBe('SIP;cause=503;text="rate_limited"');
      expect(client.responses(401).length).toBe(3);
    } finally {
      client.close();
    }
  });

  it("does not limit a trunk's carrier peers per source: a trunk's own call cap bounds them", async () => {
    const carrier = '127.0.0.7';
    const gw = await startTestGateway({
      config: {
        sip: {
          domain: 'parley.test',
          listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
          rateLimit: { perSecond: 1, burst: 3 },
        },
        trunks: {
          carrier: { peers: [{ host: carrier, port: 5060 }], keepAlive: { intervalSeconds: 0 } },
        },
      },
    });
    started.gw = gw;
    const client = await RawSipClient.open(carrier);
    try {
      const ids = Array.from({ length: 6 }, (_, i) => `carrier-burst-${i}-${Date.now()}`);
      for (const callId of ids)
        client.send(
          gw.udp,
          inviteText({ to: `+14155550999@${gw.udp}`, port: client.port, callId }),
        );
      // Each INVITE gets the trunk's own answer (no such number), none the rate limit's 503.
      for (const callId of ids) {
        const answer = await client.waitFor(
          (m) => 'status' in m && m.status >= 300 && m.headers.get('call-id') === callId,
          10_000,
        );
        expect('status' in answer && answer.status, callId).toBe(404);
        expect(answer.headers.get('reason')).toContain('trunk_unknown_number');
      }
      expect(client.responses(503)).toEqual([]);
    } finally {
      client.close();
    }
  });
});
