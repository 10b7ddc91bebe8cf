/**
 * The registrar's defences (issue 17 item 2) against a real phone: baresip
 * registers and re-registers every few seconds, over UDP and TCP, for longer
 * than a nonce lives, without a single refused authentication. (baresip 1.0
 * does not reuse a nonce: each refresh starts without credentials, is
 * challenged, and answers the fresh nonce with nc=1. Reuse with rising nc is
 * proven with our own digest code in attack-registrar.test.ts.)
 */
import { startBaresipAgent, type BaresipAgent } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDigestCredentials } from '../src/sip/message/index.js';
import { startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;
const phones: BaresipAgent[] = [];
/** username → the (nonce, nc) of each REGISTER it sent with credentials. */
const seen = new Map<string, { nonce: string; nc: number }[]>();

beforeAll(async () => {
  gw = await startTestGateway({
    agents: [{ id: 'agent1' }, { id: 'agent2' }],
    sipExtra: {
      registration: { minExpires: 1, maxExpires: 3600, defaultExpires: 3600, nonceSeconds: 10 },
    },
  });
  gw.gateway.stack.transport.on('request', (request) => {
    const header = request.method === 'REGISTER' ? request.headers.get('authorization') : undefined;
    if (!header) return;
    const credentials = parseDigestCredentials(header);
    const list = seen.get(credentials.username) ?? [];
    list.push({ nonce: credentials.nonce, nc: parseInt(credentials.nc ?? '0', 16) });
    seen.set(credentials.username, list);
  });
});
afterAll(async () => {
  await Promise.all(phones.map((p) => p.stop()));
  await gw?.close();
});

const failures = async () =>
  (await gw.gateway.metrics.registrarAuthFailures.get()).values.reduce((s, v) => s + v.value, 0);

describe('baresip against the hardened registrar', () => {
  it('registers and re-registers for longer than a nonce lives, over UDP and TCP', async () => {
    for (const [user, transport] of [
      ['agent1', 'udp'],
      ['agent2', 'tcp'],
    ] as const) {
      const phone = await startBaresipAgent({
        user,
        password: 'secret',
        registrar: transport === 'udp' ? gw.udp : gw.tcp,
        transport,
        regintSeconds: 3,
      });
      phones.push(phone);
      await phone.registered();
    }
    // Re-registrations for longer than a nonce lives (10 s): six each at a 3 s interval
    // (bounded: 40 s).
    const enough = (user: string) => (seen.get(user) ?? []).length >= 6;
    const bound = Date.now() + 40_000;
    while (!(enough('agent1') && enough('agent2')) && Date.now() < bound)
      await new Promise((resolve) => setTimeout(resolve, 500));
    expect(enough('agent1')).toBe(true);
    expect(enough('agent2')).toBe(true);
    for (const list of seen.values()) {
      // Never a nonce count twice under one nonce (the registrar would refuse it).
      const uses = list.map((s) => `${s.nonce} ${s.nc}`);
      expect(new Set(uses).size).toBe(uses.length);
    }
    expect(await failures()).toBe(0);
    const agents = (await gw.api<{ agents: { id: string; registered: boolean }[] }>('/v1/agents'))
      .body.agents;
    expect(
      agents
        .filter((a) => a.registered)
        .map((a) => a.id)
        .sort(),
    ).toEqual(['agent1', 'agent2']);
  });
});
