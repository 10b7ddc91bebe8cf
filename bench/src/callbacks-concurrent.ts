/**
 * Concurrent callbacks per core (issue 13's third figure): K callbacks asked
 * at once, on real peers: one sipp is the customers' phones behind a trunk
 * (127.0.0.2; each call answers, hears the prompt, presses 1 by RFC 4733
 * two seconds in, echoes), another sipp the advertiser (the listing's queue's
 * agents at fixed contacts, answering every call). The gateway runs in this
 * process: its CPU (user + system, `process.cpuUsage`) from the K requests to
 * all K connected (the prompt said to K phones, K keys, K advertiser legs,
 * K charges) is the cost; the callbacks are then hung up (cancel).
 *
 *   ./scripts/in-netns.sh node --import tsx bench/src/callbacks-concurrent.ts [--concurrent 10,25,50]
 */
import { execSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  PortAllocator,
  bundledScenario,
  startSipp,
  stopAll,
  type SippInstance,
} from '../../testkit/src/index.js';
import { TENANT, startTestGateway } from '../../gateway/test/harness.js';

const { values } = parseArgs({ options: { concurrent: { type: 'string', default: '10,25' } } });
const ROUNDS = values.concurrent.split(',').map(Number);
const MAX = Math.max(...ROUNDS);
const CARRIER = '127.0.0.2';

const ports = new PortAllocator();
const block = await ports.allocate(1, { protocols: ['udp'] });
const agentPort = await ports.allocate(1, { protocols: ['udp'] });
// An agent takes 10 calls at most (config): enough agents of the queue at the one sipp UAS.
const gw = await startTestGateway({
  agents: Array.from({ length: Math.ceil(MAX / 10) }, (_, i) => ({
    id: `agent${i + 1}`,
    contact: `sip:agent${i + 1}@127.0.0.1:${agentPort.base}`,
    maxCalls: 10,
  })),
  mediaExtra: { inactivityTimeoutSeconds: 0 },
  // Two legs per callback, an RTP/RTCP pair each.
  mediaPortCount: 4 * MAX + 64,
  config: {
    trunks: {
      carrier: {
        keepAlive: { intervalSeconds: 0 },
        defaultCountry: 'US',
        maxConcurrentCalls: 2 * MAX,
        peers: [{ host: CARRIER, port: block.base }],
        inbound: { numbers: [{ number: '+14155550199', tenant: TENANT, flow: 'not-in-service' }] },
      },
    },
    flows: { 'not-in-service': [{ verb: 'hangup', reason: 'rejected' }] },
    marketplace: { reserveCents: 100, tenants: { [TENANT]: {} } },
    callbacks: {
      trunk: 'carrier',
      listings: { enabled: true, feeCents: 'bid', callerNumber: '+14155550188' },
      prompt: { repeat: 1, keyTimeoutSeconds: 10 },
      retries: { maxAttempts: 1 },
      maxConcurrent: MAX,
      rateLimit: { perNumber: { max: 1_000_000 }, perSession: { max: 1_000_000 } },
    },
  },
});
let customers: SippInstance | undefined;
let advertisers: SippInstance | undefined;
try {
  const a = await gw.apiRequest<{ id: string }>('POST', '/v1/advertisers', {
    tenant: TENANT,
    name: 'Bob the Plumber',
    initialBalanceCents: 10_000_000,
  });
  const l = await gw.apiRequest<{ id: string }>('POST', '/v1/listings', {
    advertiserId: a.body.id,
    title: 'Plumber',
    category: 'plumbing',
    region: 'US',
    destination: { kind: 'queue', queue: 'sales' },
    bidCents: 300,
    dailyBudgetCents: 100_000_000,
    qualification: { minConnectedSeconds: 0 },
    staticNumber: '+14155550199',
  });
  if (l.status !== 201) throw new Error(`listing: ${l.status} ${JSON.stringify(l.body)}`);
  const service = gw.gateway.callbacks.service;
  let commit = '';
  try {
    commit = execSync('git rev-parse --short HEAD').toString().trim();
  } catch {
    commit = 'unknown';
  }
  console.log(
    `concurrent callbacks; ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, commit ${commit}, ${new Date().toISOString()}`,
  );
  for (const k of ROUNDS) {
    customers = await startSipp({
      scenario: await bundledScenario('uas-carrier-press-1'),
      address: CARRIER,
      localPort: block.base,
      rtpEcho: true,
      calls: k,
      concurrency: k,
      name: 'customers',
    });
    advertisers = await startSipp({
      scenario: await bundledScenario('uas-answer-pcmu-echo'),
      localPort: agentPort.base,
      calls: k,
      concurrency: k,
      name: 'advertisers',
    });
    const tokens = await Promise.all(
      Array.from({ length: k }, () =>
        gw.token({
          scope: `callback:listing.${l.body.id}`,
          privateClaims: { callback: { phone: '+14155550123', when: 'now' } },
        }),
      ),
    );
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const ids = await Promise.all(
      tokens.map(async (token) => {
        const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token, destination: `listing.${l.body.id}` }),
        });
        const { id } = (await res.json()) as { id: string };
        if (res.status !== 201) throw new Error(`callback: ${res.status}`);
        return id;
      }),
    );
    const phaseOf = async (id: string, phase: string) => {
      const e = await service.watchUntil(id, (e) => e.phase === phase || e.phase === 'ended');
      return e.phase === phase ? phase : `ended ${e.outcome}`;
    };
    const reached = await Promise.all(ids.map((id) => phaseOf(id, 'connected')));
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const connected = reached.filter((r) => r === 'connected').length;
    const ended = ids.map((id) => phaseOf(id, 'ended'));
    await Promise.all(ids.map((id) => service.cancel(id)));
    await Promise.all(ended);
    await customers.stop();
    await advertisers.stop();
    console.log(
      `${k} at once: ${connected}/${k} connected in ${(wallMs / 1000).toFixed(1)} s; gateway CPU ${cpuMs.toFixed(0)} ms ` +
        `(${(cpuMs / k).toFixed(0)} ms per callback, ${(cpuMs / wallMs).toFixed(2)} cores busy); ` +
        `${reached.filter((r) => r !== 'connected').join(', ') || 'none failed'}; load average ${loadavg()
          .map((x) => x.toFixed(2))
          .join(' ')}`,
    );
  }
} finally {
  await customers?.stop();
  await advertisers?.stop();
  await gw.close();
  block.release();
  agentPort.release();
  await stopAll();
}
