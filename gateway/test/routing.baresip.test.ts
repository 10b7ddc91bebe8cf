/**
 * Value-based routing with real agents: two baresip phones of different tiers,
 * the company's benefit and burden endpoints served here, sipp as the visitor.
 * The faults (a provider down, slow, answering garbage or too much; a tenant
 * algorithm that throws or never answers; the lookup itself failing; no agent
 * for the value band; an agent going offline while ringing) are each checked
 * in the call record the gateway stored.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  bundledScenario,
  runSipp,
  startBaresipAgent,
  stopAll,
  type BaresipAgent,
  type SippResult,
} from '@parley/testkit';
import { ALGORITHM_TIMEOUT_MS } from '../src/routing/value/value-service.js';
import { startTestGateway, type TestGateway } from './harness.js';
import type { SipResponse } from '../src/sip/message/index.js';
import { RawSipClient } from './raw-sip.js';

let provider: Server;
let providerUrl = '';
/** customer id → benefit score; a customer listed in `slow` answers after 2 s. */
const benefits: Record<string, number> = { 'C-GOLD': 500, 'C-NEW': 5 };
const slow = new Set<string>(['C-SLOW']);
/** Customers whose benefit answer is not `{ score }` JSON, and one far over the 16 KiB limit. */
const garbage = new Set<string>(['C-GARBAGE']);
const huge = new Set<string>(['C-HUGE']);

let gw: TestGateway;
const agents: Record<string, BaresipAgent> = {};

beforeAll(async () => {
  provider = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const { customerId } = JSON.parse(body) as { customerId: string };
      const benefit = req.url === '/benefit';
      const answer = () =>
        res
          .setHeader('content-type', 'application/json')
          .end(JSON.stringify({ score: benefit ? (benefits[customerId] ?? 0) : 10 }));
      if (benefit && garbage.has(customerId))
        res.setHeader('content-type', 'text/html').end('<html>Service Unavailable</html>');
      else if (benefit && huge.has(customerId))
        res
          .setHeader('content-type', 'application/json')
          .end(JSON.stringify({ score: 900, pad: 'x'.repeat(200_000) }));
      else if (slow.has(customerId)) setTimeout(answer, 2000);
      else answer();
    });
  });
  await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
  providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  gw = await startTestGateway({
    agents: [
      { id: 'senior1', tier: 'senior' },
      { id: 'junior1', tier: 'junior' },
      // Registers only in the tests of agents going offline (unregistered, it is no candidate).
      { id: 'lead1', tier: 'lead' },
    ],
    // Long enough for a 1 s binding to expire, seen by the registrar's 1 s sweep, while ringing.
    ringTimeoutSeconds: 4,
    queueExtra: {
      bands: { high: ['lead', 'senior', 'junior'], standard: ['junior', 'senior'] },
    },
    // Short registrations for the binding-expiry test.
    sipExtra: { registration: { minExpires: 1 } },
    tenantExtra: {
      routing: {
        benefit: {
          url: `${providerUrl}/benefit`,
          timeoutMs: 1000, // a loaded machine answers late; C-SLOW (2 s) still times out
          retries: 0,
          cacheSeconds: 0,
          default: 0,
        },
        burden: {
          url: `${providerUrl}/burden`,
          timeoutMs: 1000,
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

interface Score {
  score: number;
  fallback: boolean;
  error?: string;
}

/** A call record as `/v1/calls` lists it from the call store. */
interface Routed {
  agentId: string | null;
  outcome: string | null;
  reason: string | null;
  attempts: { agentId: string; status: number; reason?: string }[];
  routing: {
    value: number;
    tier: string;
    benefit: Score;
    burden: Score;
    candidates: { agentId: string }[];
    algorithm: { name: string; version: string; error?: string };
    decidedInMs: number;
  } | null;
}

/** The phone accepts every call that rings it (until the test's listeners are removed). */
function answers(phone: BaresipAgent): void {
  phone.events.on('event', (e) => {
    if (e.type === 'CALL_INCOMING') void phone.accept();
  });
}

/** One visitor call of `customerId` through `target`; the stored record once it ended. */
async function placeCall(
  target: TestGateway,
  customerId: string,
): Promise<{ sipp: SippResult; call: Routed }> {
  const token = await target.token({ privateClaims: { customerId, name: customerId } });
  const sipp = await runSipp({
    scenario: await bundledScenario('uac-bearer-pcmu'),
    remote: target.udp,
    service: 'sales',
    calls: 1,
    callDurationMs: 500,
    injection: { rows: [[token]] },
    timeoutMs: 30_000,
  });
  await target.callsEnded();
  expect(target.gateway.calls.size, 'the call is still up').toBe(0);
  const { body } = await target.api<{ calls: Routed[] }>('/v1/calls?limit=1');
  return { sipp, call: body.calls[0]! };
}

async function callAs(customerId: string, answerers: string[]): Promise<Routed> {
  for (const id of answerers) answers(agents[id]!);
  const { sipp, call } = await placeCall(gw, customerId);
  expect(sipp.stats.successful, sipp.output).toBe(1);
  return call;
}

/** A port nothing listens on: bound, then closed again (a provider that is down). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The lead rang first, went away while ringing (recorded so), and the senior took the call. */
function expectLeadGoneThenSenior(call: Routed): void {
  expect(call.routing?.candidates.map((c) => c.agentId)).toEqual(['lead1', 'senior1', 'junior1']);
  expect(call.attempts.map((a) => [a.agentId, a.reason ?? a.status])).toEqual([
    ['lead1', 'agent_away'],
    ['senior1', 200],
  ]);
  expect(call.agentId).toBe('senior1');
}

describe('value-based routing', () => {
  it('rings the senior agent first for a high-value customer', async () => {
    const call = await callAs('C-GOLD', ['senior1', 'junior1']);
    expect(call.routing).toMatchObject({
      value: 490,
      tier: 'high',
      algorithm: { name: 'weighted' },
    });
    expect(call.routing?.candidates.map((c) => c.agentId)).toEqual(['senior1', 'junior1']);
    expect(call.agentId).toBe('senior1');
  });

  it('rings the junior agent first for a standard customer', async () => {
    const call = await callAs('C-NEW', ['senior1', 'junior1']);
    expect(call.routing?.tier).toBe('standard');
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
    expect(call.routing?.benefit).toMatchObject({ score: 0, fallback: true, error: 'timeout' });
    expect(call.routing?.tier).toBe('standard');
    expect(call.agentId).toBe('junior1');
  });

  it.each([
    ['C-GARBAGE', 'bad_body'],
    ['C-HUGE', 'too_large'],
  ])(
    'routes %s with the default value when the benefit answer is unusable (%s), and says so',
    async (customer, error) => {
      const call = await callAs(customer, ['senior1', 'junior1']);
      expect(call.routing).toMatchObject({
        benefit: { score: 0, fallback: true, error },
        burden: { score: 10, fallback: false },
        value: -10,
        tier: 'standard',
        algorithm: { name: 'weighted' },
      });
      expect(call.agentId).toBe('junior1');
    },
  );

  it('routes by the default value when the value lookup itself fails, and says why', async () => {
    // The customer's history comes from the call store: a store that throws fails the lookup.
    const lookup = vi.spyOn(gw.gateway.callStore, 'listByCustomer').mockImplementationOnce(() => {
      throw new Error('database is locked');
    });
    try {
      const call = await callAs('C-GOLD', ['senior1', 'junior1']);
      expect(lookup).toHaveBeenCalled();
      expect(call.routing).toMatchObject({
        value: 0,
        tier: 'standard',
        algorithm: { name: 'weighted', error: 'value_lookup_failed: database is locked' },
        benefit: { score: 0, fallback: true, error: 'value_lookup_failed' },
        burden: { score: 0, fallback: true, error: 'value_lookup_failed' },
      });
      expect(call.routing?.candidates.map((c) => c.agentId)).toEqual(['junior1', 'senior1']);
      expect(call.agentId).toBe('junior1');
    } finally {
      lookup.mockRestore();
    }
  });
});

// A C-GOLD call rings lead1 first: the `lead` tier serves the high band first.
describe('an agent going offline while ringing', () => {
  let lead: BaresipAgent | undefined;
  afterEach(async () => {
    await lead?.stop();
    lead = undefined;
  });

  it('cancels an agent who unregisters while ringing, records why, and rings the next one', async () => {
    lead = await startBaresipAgent({
      user: 'lead1',
      password: 'secret',
      registrar: gw.udp,
      answerMode: 'manual',
    });
    await lead.registered();
    const since = lead.sipMessages().length;
    // A phone signing out: REGISTER with `Contact: *` and Expires 0 (RFC 3261 §10.2.2),
    // sent here with lead1's credentials: baresip 1.0's only way to unregister is
    // deleting its user agent (`uadel`), and the ringing call with it.
    const signOut = await RawSipClient.open();
    let signedOut: Promise<SipResponse> | undefined;
    lead.events.on('event', (e) => {
      if (e.type === 'CALL_INCOMING')
        signedOut = signOut.register(gw.udp, 'lead1', 'secret', ['*'], ['Expires: 0'], 'MD5');
    });
    try {
      const call = await callAs('C-GOLD', ['senior1']);
      expect((await signedOut)?.status).toBe(200);
      expectLeadGoneThenSenior(call);
      // The phone itself was told: its INVITE was cancelled.
      await lead.waitForRequest('CANCEL', undefined, 3000, { since });
    } finally {
      signOut.close();
    }
  });

  it('cancels an agent whose registration expires while ringing, records why, and rings the next one', async () => {
    // The phone's binding is made here, not by baresip (which refreshes well before
    // expiry): registered for an hour, then, once the phone rings, refreshed for
    // 1 s and never again, as when a phone's refreshes stop reaching the gateway.
    lead = await startBaresipAgent({ user: 'lead1', answerMode: 'manual' });
    const phone = lead;
    const binder = await RawSipClient.open();
    const contact = [`<${phone.uri}>`];
    let shortened: Promise<SipResponse> | undefined;
    phone.events.on('event', (e) => {
      if (e.type === 'CALL_INCOMING')
        shortened = binder.register(gw.udp, 'lead1', 'secret', contact, ['Expires: 1'], 'MD5');
    });
    try {
      const bound = await binder.register(gw.udp, 'lead1', 'secret', contact, [], 'MD5');
      expect(bound.status).toBe(200);
      const since = phone.sipMessages().length;
      const call = await callAs('C-GOLD', ['senior1']);
      expect((await shortened)?.status).toBe(200);
      expectLeadGoneThenSenior(call);
      await phone.waitForRequest('CANCEL', undefined, 100, { since });
      expect(gw.gateway.agents.get('lead1')?.registered).toBe(false);
    } finally {
      binder.close();
    }
  });
});

describe('faults of the value lookup, with a tenant algorithm module', () => {
  let faults: TestGateway;
  let phone: BaresipAgent;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-value-module-'));
    const module = join(dir, 'acme-value.mjs');
    writeFileSync(
      module,
      `export default {
  name: 'acme-module',
  version: '1',
  compute(input) {
    if (input.customerId === 'C-THROW') throw new Error('no tariff for this customer');
    if (input.customerId === 'C-HANG') return new Promise(() => {});
    if (input.customerId === 'C-VIP') return { value: 1000, tier: 'vip' };
    return { value: input.benefit.score, tier: 'standard' };
  },
};
`,
    );
    faults = await startTestGateway({
      agents: [
        { id: 'agent1', tier: 'junior' },
        // The only tier of the vip band; configured, but no phone ever registers.
        { id: 'platinum1', tier: 'platinum' },
      ],
      queueExtra: { bands: { vip: ['platinum'] } },
      tenantExtra: {
        routing: {
          // The benefit provider is down: every call here gets its default, 25.
          benefit: {
            url: `http://127.0.0.1:${await closedPort()}/benefit`,
            timeoutMs: 300,
            retries: 1,
            cacheSeconds: 0,
            default: 25,
          },
          algorithm: { kind: 'module', path: module },
        },
      },
    });
    phone = await startBaresipAgent({
      user: 'agent1',
      password: 'secret',
      registrar: faults.udp,
      answerMode: 'manual',
    });
    await phone.registered();
  });

  afterEach(() => phone.events.removeAllListeners('event'));

  afterAll(async () => {
    await phone.stop();
    await faults.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes with the default score when the provider refuses the connection, and says so', async () => {
    answers(phone);
    const { sipp, call } = await placeCall(faults, 'C-1');
    expect(sipp.stats.successful, sipp.output).toBe(1);
    expect(call.routing).toMatchObject({
      benefit: { score: 25, fallback: true, error: 'unreachable' },
      burden: { fallback: true, error: 'not_configured' },
      algorithm: { name: 'acme-module', version: '1' },
      value: 25,
      tier: 'standard',
    });
    expect(call.routing?.algorithm.error).toBeUndefined();
    expect(call.agentId).toBe('agent1');
  });

  it('uses the built-in algorithm when the module throws, and says why', async () => {
    answers(phone);
    const { sipp, call } = await placeCall(faults, 'C-THROW');
    expect(sipp.stats.successful, sipp.output).toBe(1);
    expect(call.routing?.algorithm).toEqual({
      name: 'weighted',
      version: '1',
      error: 'acme-module@1: no tariff for this customer',
    });
    expect(call.routing).toMatchObject({ value: 25, tier: 'standard' });
    expect(call.agentId).toBe('agent1');
  });

  it('gives up on a module that never answers, uses the built-in algorithm, and says why', async () => {
    answers(phone);
    const { sipp, call } = await placeCall(faults, 'C-HANG');
    expect(sipp.stats.successful, sipp.output).toBe(1);
    expect(call.routing?.algorithm).toEqual({
      name: 'weighted',
      version: '1',
      error: `acme-module@1: timeout: no answer in ${ALGORITHM_TIMEOUT_MS} ms`,
    });
    expect(call.routing?.decidedInMs).toBeGreaterThanOrEqual(ALGORITHM_TIMEOUT_MS);
    expect(call.agentId).toBe('agent1');
  });

  it('ends the call when no agent serves the value band, with the decision stored', async () => {
    const invites = phone.receivedRequests('INVITE').length;
    const { sipp, call } = await placeCall(faults, 'C-VIP');
    expect(sipp.stats.failed, sipp.output).toBe(1);
    expect(call).toMatchObject({
      outcome: 'no_agent',
      reason: 'no_agent_available',
      agentId: null,
      attempts: [],
      routing: { value: 1000, tier: 'vip', candidates: [], algorithm: { name: 'acme-module' } },
    });
    // agent1 is registered and free, but not of the band: its phone never rang.
    expect(phone.receivedRequests('INVITE')).toHaveLength(invites);
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
    await fork.callsEnded();
    const { body } = await fork.api<{ calls: Routed[] }>('/v1/calls?limit=1');
    const call = body.calls[0]!;
    expect(call.agentId).toBe('second');
    expect(call.attempts.map((a) => a.agentId).sort()).toEqual(['first', 'second']);
    expect(call.attempts.find((a) => a.agentId === 'first')).toMatchObject({
      reason: 'answered_elsewhere',
    });
  });
});
