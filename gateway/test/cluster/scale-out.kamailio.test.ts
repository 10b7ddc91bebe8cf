/**
 * The scale-out test of issue 16 on shared stores, with the real things:
 * Kamailio (deploy/kamailio/) in front of three gateways run as child
 * processes on one PostgreSQL and one Redis, one baresip agent registered
 * with the first gateway only, sipp visitors through Kamailio.
 *
 * - Calls spread over the three gateways (their records in PostgreSQL say
 *   which owned each) and the one agent answers them all, each offered once,
 *   hearing the caller's tone: a registration made through one gateway is
 *   rung by the others.
 * - A token used through one gateway is refused by another (403, `replayed`).
 * - A rolling restart (each gateway SIGTERMed, drained, started again on its
 *   ports, back in the dispatcher's set) while calls are being placed: every
 *   call succeeds, the restarted first gateway rings the agent registered
 *   with it before it stopped.
 * - A gateway drained (SIGTERM) while calls are being placed: every call
 *   placed succeeds, on it or on the others.
 * - A gateway SIGKILLed mid-calls: its call is closed by a survivor
 *   (`gateway_lost`, the agent's and the visitor's legs get a BYE), the
 *   others go on to their natural end, and no record is left open.
 */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import {
  analyse,
  bundledScenario,
  reportFailure,
  runSipp,
  startBaresipAgent,
  startKamailio,
  startPostgres,
  startRedis,
  startSipp,
  stopAll,
  until,
  type BaresipAgent,
  type Kamailio,
  type Postgres,
  type RedisServer,
} from '@parley/testkit';
import {
  SessionTokens,
  callsInProgress,
  clusterKeys,
  dispatcherSays,
  startClusterGateway,
  type ClusterGateway,
  type ClusterKeys,
} from '@parley/testkit/cluster';
import type { SipResponse } from '../../src/sip/message/index.js';
import { RawSipClient, inviteText } from '../raw-sip.js';

// Kamailio binds its own loopback address: the gateways trust it alone.
const EDGE = '127.0.0.2';
const LEASE_SECONDS = 3;

let postgres: Postgres;
let redis: RedisServer;
let db: pg.Client;
let keys: ClusterKeys;
let gateways: ClusterGateway[] = [];
let agent: BaresipAgent;
let kamailio: Kamailio;
let tokens: SessionTokens;

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const postgresUrl = await postgres.createDatabase('parley_scale_out');
  db = new pg.Client({ connectionString: postgresUrl });
  await db.connect();
  keys = await clusterKeys();
  tokens = new SessionTokens(keys);
  const shared = {
    postgresUrl,
    redisUrl: redis.url,
    heartbeatSeconds: 1,
    leaseSeconds: LEASE_SECONDS,
  };
  // One after the other: the first migrates PostgreSQL (the others would wait on its lock).
  for (const i of [0, 1, 2]) {
    gateways.push(
      await startClusterGateway({
        name: `gw${i}`,
        keys,
        agents: ['agent0'],
        edge: EDGE,
        drainTimeoutSeconds: 20,
        // Room above the calls in flight at two a second: the test is about restarts,
        // not the agent's capacity (one run of five had a 486 agent_busy at 4).
        agentMaxCalls: 8,
        // A lagging gateway refuses calls 503 overloaded (so does Kamailio once none is left):
        // the test is about restarts, not a busy machine's event loop.
        maxLagMs: 10_000,
        shared,
      }),
    );
  }
  agent = await startBaresipAgent({
    user: 'agent0',
    password: 'secret',
    registrar: gateways[0]!.sip,
    transport: 'udp',
    maxCalls: 8,
  });
  await agent.registered();
  kamailio = await startKamailio({ gateways: gateways.map((g) => g.sip), host: EDGE });
}, 180_000);

// A failure under CI's load is rare and its cause is in the peers' logs, not in
// sipp's counts: print them (CI keeps the failure's text in the summary).
beforeEach(() => {
  onTestFailed(({ task }) => {
    reportFailure(`${task.name}: the peers' last output`, [
      ...gateways.map((gw) => gw.process.describe(150)),
      kamailio?.process.describe(80),
      agent?.process.describe(80),
    ]);
  });
});

afterAll(async () => {
  await agent?.stop();
  await Promise.all(gateways.map((g) => g.stop()));
  await kamailio?.stop();
  await db?.end();
  await Promise.all([postgres?.stop(), redis?.stop()]);
  await stopAll();
});

interface Row {
  id: string;
  owner: string;
  state: string;
  outcome: string | null;
  reason: string | null;
  agent_id: string | null;
  session_id: string;
}

async function rows(where = 'TRUE', params: unknown[] = []): Promise<Row[]> {
  const result = await db.query<Row>(
    `SELECT id, owner, state, outcome, reason, agent_id, session_id FROM calls WHERE ${where} ORDER BY created_at`,
    params,
  );
  return result.rows;
}

/**
 * The records once `count` are stored and all ended: a gateway writes a call's
 * record behind the call (queued per call), so sipp may be done a moment before.
 */
function settledRows(count: number): Promise<Row[]> {
  return until(async () => {
    const all = await rows();
    return all.length >= count && all.every((r) => r.state === 'ended') ? all : undefined;
  }, `${count} ended records in PostgreSQL`);
}

/** Resolves once every gateway in `gws` has at least `n` calls in progress (its /healthz). */
async function inProgress(gws: readonly ClusterGateway[], n: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    const counts = await Promise.all(gws.map(callsInProgress));
    if (counts.every((c) => c >= n)) return;
    if (Date.now() - started > 20_000) throw new Error(`calls in progress: ${counts.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('three gateways behind Kamailio on PostgreSQL and Redis', () => {
  it('spreads calls over every gateway; the agent registered with one answers all, each offered once, with audio', async () => {
    for (const gw of gateways) await dispatcherSays(kamailio, gw, 'active');
    const invitesBefore = agent.receivedRequests('INVITE').length;
    const result = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu-routed'),
      remote: kamailio.sip,
      service: 'sales',
      calls: 6,
      rate: 2,
      // Short calls: the agent takes 4 at a time (maxCalls), across the gateways.
      callDurationMs: 1000,
      injection: { rows: await tokens.rows(6) },
      timeoutMs: 60_000,
    });
    expect(result.stats.successful, result.output).toBe(6);
    const stored = await settledRows(6);
    expect(stored).toHaveLength(6);
    const perOwner = new Map<string, number>();
    for (const r of stored) {
      expect(r).toMatchObject({ state: 'ended', outcome: 'answered', agent_id: 'agent0' });
      perOwner.set(r.owner, (perOwner.get(r.owner) ?? 0) + 1);
    }
    // Round-robin over three: two each, all answered by gw0's agent.
    expect(Object.fromEntries(perOwner)).toEqual({ gw0: 2, gw1: 2, gw2: 2 });
    expect(agent.receivedRequests('INVITE').length - invitesBefore).toBe(6);
    const heard = await analyse(agent.lastRecording().received!);
    expect(heard.rms).toBeGreaterThan(0.05);
    expect(heard.roughFrequencyHz).toBeGreaterThan(900);
    expect(heard.roughFrequencyHz).toBeLessThan(1100);
  });

  it('refuses on a second gateway a token used through the first (403, replayed)', async () => {
    const [[token]] = (await tokens.rows(1)) as [[string]];
    const first = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu-routed'),
      remote: kamailio.sip,
      service: 'sales',
      calls: 1,
      callDurationMs: 500,
      injection: { rows: [[token]] },
      timeoutMs: 30_000,
    });
    expect(first.stats.successful, first.output).toBe(1);
    const used = await until(
      async () => (await rows('session_id = $1', [tokens.lastSubject]))[0],
      "the first call's record",
    );
    const other = gateways.find((g) => g.name !== used.owner)!;

    const client = await RawSipClient.open();
    try {
      const callId = `replay-${Date.now()}`;
      client.send(
        other.sip,
        inviteText({
          to: `sales@${other.sip}`,
          port: client.port,
          callId,
          headers: [`Authorization: Bearer ${token}`],
        }),
      );
      const refused = (await client.waitFor(
        (m) => m.type === 'response' && m.callId === callId && m.status >= 300,
        10_000,
      )) as SipResponse;
      expect(refused.status).toBe(403);
      expect(refused.headers.get('reason')).toBe('SIP;cause=403;text="replayed"');
    } finally {
      client.close();
    }
    expect(await rows('session_id = $1', [tokens.lastSubject])).toHaveLength(1);
  });

  it('restarts every gateway in turn while calls are being placed: every call succeeds', async () => {
    const before = (await rows()).length;
    const calls = 60;
    const stream = await startSipp({
      scenario: await bundledScenario('uac-bearer-pcmu-routed'),
      remote: kamailio.sip,
      service: 'sales',
      calls,
      rate: 2,
      callDurationMs: 1000,
      injection: { rows: await tokens.rows(calls) },
      timeoutMs: 120_000,
    });
    for (const gw of gateways) {
      gw.process.signal('SIGTERM');
      expect((await gw.process.exited).code).toBe(0);
      await gw.restart();
      await dispatcherSays(kamailio, gw, 'active');
    }
    const placed = await stream.result;
    expect(placed.stats.successful, placed.output).toBe(calls);
    const after = (await settledRows(before + calls)).slice(before);
    expect(after).toHaveLength(calls);
    expect(after.filter((r) => r.outcome !== 'answered' || r.agent_id !== 'agent0')).toEqual([]);
  }, 180_000);

  it('drains a gateway while calls are being placed: every call succeeds', async () => {
    const drained = gateways[1]!;
    const before = (await rows()).length;
    const stream = await startSipp({
      scenario: await bundledScenario('uac-bearer-pcmu-routed'),
      remote: kamailio.sip,
      service: 'sales',
      calls: 8,
      rate: 2,
      callDurationMs: 1000,
      injection: { rows: await tokens.rows(8) },
      timeoutMs: 60_000,
    });
    // Once the stream has reached it, the gateway is told to stop.
    await inProgress([drained], 1);
    drained.process.signal('SIGTERM');
    const placed = await stream.result;
    expect(placed.stats.successful, placed.output).toBe(8);
    expect((await drained.process.exited).code).toBe(0);
    const after = await settledRows(before + 8);
    expect(after).toHaveLength(before + 8);
    expect(after.slice(before).filter((r) => r.outcome !== 'answered')).toEqual([]);
    gateways = gateways.filter((g) => g !== drained);
  });

  it('closes the calls of a SIGKILLed gateway from a survivor; the other calls end normally; none left open', async () => {
    const [survivor, victim] = gateways as [ClusterGateway, ClusterGateway];
    await dispatcherSays(kamailio, victim, 'active');
    const before = (await rows()).length;
    const since = agent.sipMessages().length;
    const long = await startSipp({
      scenario: await bundledScenario('uac-bearer-pcmu-routed'),
      remote: kamailio.sip,
      service: 'sales',
      calls: 2,
      rate: 10,
      callDurationMs: 8000 + LEASE_SECONDS * 1000,
      injection: { rows: await tokens.rows(2) },
      timeoutMs: 60_000,
    });
    await inProgress([survivor, victim], 1);
    // The record's writes go behind the call (queued per call): wait for the answer's.
    const victimCall = await until(
      async () => (await rows("owner = $1 AND state = 'answered'", [victim.name]))[0],
      "the victim's answered call in PostgreSQL",
    );

    victim.process.signal('SIGKILL');
    expect((await victim.process.exited).signal).toBe('SIGKILL');
    await agent.waitForRequest(
      'BYE',
      (m) => m.header('reason') === 'SIP;cause=503;text="gateway_lost"',
      20_000,
      { since },
    );

    const placed = await long.result;
    // The killed gateway's call was lost (sipp got the survivor's BYE); the other ended as planned.
    expect(placed.stats.successful, placed.output).toBe(1);
    expect(placed.stats.failed, placed.output).toBe(1);
    const after = await settledRows(before + 2);
    expect(after).toHaveLength(before + 2);
    expect(after.filter((r) => r.state !== 'ended')).toEqual([]);
    expect(await rows('id = $1', [victimCall.id])).toEqual([
      expect.objectContaining({ owner: victim.name, outcome: 'answered', reason: 'gateway_lost' }),
    ]);
    const metrics = await (await fetch(`${survivor.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^parley_calls_lost_closed_total 1$/m);
  });
});
