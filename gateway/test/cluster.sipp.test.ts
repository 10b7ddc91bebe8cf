/**
 * Scale-out behind Kamailio (issue 16, items 2 and 3), with the real things:
 * Kamailio with the repository's configuration (deploy/kamailio/) in front of
 * three gateways run as child processes, a baresip agent registered with
 * each gateway, sipp placing visitor calls through Kamailio.
 *
 * - Calls spread over the three gateways, each reaches its gateway's agent,
 *   and the agent hears the caller's tone.
 * - SIGTERM on a gateway with a call in progress: the dispatcher takes it out
 *   (its OPTIONS get 503), the new calls all go to the others and succeed, and
 *   its own call goes on to its natural end before the process exits cleanly.
 * - SIGKILL on a gateway: its probes go unanswered and the dispatcher marks
 *   it inactive; the calls placed meanwhile all succeed on the survivor.
 *
 * Agents register with one gateway each and no store is shared: a call is
 * answered by an agent of the gateway that took it. The same cluster on
 * PostgreSQL and Redis: `cluster/scale-out.kamailio.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyse,
  bundledScenario,
  runSipp,
  startBaresipAgent,
  startKamailio,
  startSipp,
  stopAll,
  type BaresipAgent,
  type Kamailio,
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

// Kamailio binds its own loopback address: the gateways trust it alone.
const EDGE = '127.0.0.2';
// A lagging gateway refuses calls 503 overloaded: these tests are about the cluster, not a busy machine.
const LAG_LIMIT_MS = 10_000;

let keys: ClusterKeys;
let gateways: ClusterGateway[] = [];
let agents: BaresipAgent[] = [];
let kamailio: Kamailio;
let tokens: SessionTokens;

interface CallsBody {
  calls: { outcome: string; agentId: string | null }[];
}

beforeAll(async () => {
  keys = await clusterKeys();
  tokens = new SessionTokens(keys);
  gateways = await Promise.all(
    [0, 1, 2].map((i) =>
      startClusterGateway({
        name: `gw${i}`,
        keys,
        agents: [`agent${i}`],
        edge: EDGE,
        maxLagMs: LAG_LIMIT_MS,
      }),
    ),
  );
  agents = await Promise.all(
    gateways.map((gw, i) =>
      startBaresipAgent({
        user: `agent${i}`,
        password: 'secret',
        registrar: gw.sip,
        transport: 'udp',
      }),
    ),
  );
  await Promise.all(agents.map((a) => a.registered()));
  kamailio = await startKamailio({ gateways: gateways.map((g) => g.sip), host: EDGE });
}, 180_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await Promise.all(gateways.map((g) => g.stop()));
  await kamailio?.stop();
  await stopAll();
});

async function answered(gw: ClusterGateway): Promise<number> {
  const body = await gw.api<CallsBody>('/v1/calls');
  return body.calls.filter((c) => c.outcome === 'answered').length;
}

/** Every record, the calls in progress included. */
async function records(gw: ClusterGateway): Promise<number> {
  return (await gw.api<CallsBody>('/v1/calls')).calls.length;
}

describe('three gateways behind Kamailio', () => {
  it('spreads calls over every gateway; each reaches its agent with audio', async () => {
    for (const gw of gateways)
      expect(await dispatcherSays(kamailio, gw, 'active')).toBeGreaterThanOrEqual(0);
    const result = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu-routed'),
      remote: kamailio.sip,
      service: 'sales',
      calls: 6,
      rate: 2,
      callDurationMs: 3000,
      injection: { rows: await tokens.rows(6) },
      timeoutMs: 60_000,
    });
    expect(result.stats.successful, result.output).toBe(6);
    const perGateway = await Promise.all(gateways.map(answered));
    // Round-robin over three: two each.
    expect(perGateway).toEqual([2, 2, 2]);
    for (const agent of agents) {
      const { received } = agent.lastRecording();
      expect(received).toBeDefined();
      const heard = await analyse(received!);
      expect(heard.rms).toBeGreaterThan(0.05);
      expect(heard.roughFrequencyHz).toBeGreaterThan(900);
      expect(heard.roughFrequencyHz).toBeLessThan(1100);
    }
  });

  it('drains a gateway on SIGTERM: out of the set, no new calls, its call finishes', async () => {
    const before = await Promise.all(gateways.map(records));
    const long = await startSipp({
      scenario: await bundledScenario('uac-bearer-pcmu-routed'),
      remote: kamailio.sip,
      service: 'sales',
      calls: 1,
      callDurationMs: 8000,
      injection: { rows: await tokens.rows(1) },
      timeoutMs: 60_000,
    });
    // The gateway that owns the long call.
    let owner: ClusterGateway | undefined;
    while (!owner) {
      const counts = await Promise.all(gateways.map(callsInProgress));
      owner = gateways[counts.findIndex((n) => n > 0)];
      if (!owner) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    owner.process.signal('SIGTERM');
    await dispatcherSays(kamailio, owner, 'inactive');

    const result = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu-routed'),
      remote: kamailio.sip,
      service: 'sales',
      calls: 4,
      rate: 2,
      callDurationMs: 1000,
      injection: { rows: await tokens.rows(4) },
      timeoutMs: 60_000,
    });
    expect(result.stats.successful, result.output).toBe(4);
    const ownerIndex = gateways.indexOf(owner);
    expect(await records(owner)).toBe(before[ownerIndex]! + 1); // its long call only
    const others = gateways.filter((g) => g !== owner);
    const othersAfter = await Promise.all(others.map(records));
    const othersBefore = gateways.map((_, i) => before[i]!).filter((_, i) => i !== ownerIndex);
    expect(othersAfter.reduce((a, b) => a + b, 0)).toBe(
      othersBefore.reduce((a, b) => a + b, 0) + 4,
    );

    const finished = await long.result;
    expect(finished.stats.successful, finished.output).toBe(1);
    expect((await owner.process.exited).code).toBe(0);
    gateways = others;
  });

  it('takes a SIGKILLed gateway out within seconds; the calls go to the survivor', async () => {
    const [victim, survivor] = gateways as [ClusterGateway, ClusterGateway];
    const before = await answered(survivor);
    victim.process.signal('SIGKILL');
    const outAfterMs = await dispatcherSays(kamailio, victim, 'inactive');
    // A figure, not an assertion (docs/benchmarks.md): probe interval 1 s + 2 s timeout.
    console.info(`dispatcher took the killed gateway out after ${outAfterMs} ms`);

    const result = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu-routed'),
      remote: kamailio.sip,
      service: 'sales',
      calls: 3,
      rate: 2,
      callDurationMs: 1000,
      injection: { rows: await tokens.rows(3) },
      timeoutMs: 60_000,
    });
    expect(result.stats.successful, result.output).toBe(3);
    expect(await answered(survivor)).toBe(before + 3);
  });
});
