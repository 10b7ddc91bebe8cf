/**
 * Callback timings (issue 13), one callback at a time on real peers: sipp is
 * the customer's phone behind a trunk (127.0.0.2; answers, presses 1 by
 * RFC 4733, echoes), baresip the advertiser (the listing's queue's agent,
 * answers at once). From each stored record:
 * - request → customer ringing: the record's creation (`POST /v1/callbacks`
 *   accepted) to the customer's 180 at the gateway (goal p95 ≤ 1 s);
 * - "1" → advertiser ringing: the key's arrival to the advertiser's 180
 *   (goal p95 ≤ 300 ms): the fee check, the advertiser's INVITE, its 180.
 * Concurrent callbacks: `callbacks-concurrent.ts`.
 *
 *   ./scripts/in-netns.sh node --import tsx bench/src/callbacks.ts [--callbacks 20]
 */
import { execSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  PortAllocator,
  bundledScenario,
  startBaresipAgent,
  startSipp,
  stopAll,
} from '../../testkit/src/index.js';
import { TENANT, startTestGateway } from '../../gateway/test/harness.js';
import { summarize } from './latency-stats.js';

const { values } = parseArgs({ options: { callbacks: { type: 'string', default: '20' } } });
const N = Number(values.callbacks);
const CARRIER = '127.0.0.2';

const ports = new PortAllocator();
const block = await ports.allocate(1, { protocols: ['udp'] });
const advertiser = await startBaresipAgent({ user: 'advertiser' });
const gw = await startTestGateway({
  agents: [{ id: 'agent1', contact: advertiser.uri }],
  config: {
    trunks: {
      carrier: {
        keepAlive: { intervalSeconds: 0 },
        defaultCountry: 'US',
        peers: [{ host: CARRIER, port: block.base }],
        // A listing's static number must be one of the trunk's inbound numbers.
        inbound: { numbers: [{ number: '+14155550199', tenant: TENANT, flow: 'not-in-service' }] },
      },
    },
    flows: { 'not-in-service': [{ verb: 'hangup', reason: 'rejected' }] },
    marketplace: { reserveCents: 100, tenants: { [TENANT]: {} } },
    callbacks: {
      trunk: 'carrier',
      listings: { enabled: true, feeCents: 'bid', callerNumber: '+14155550188' },
      prompt: { repeat: 1, keyTimeoutSeconds: 5 },
      retries: { maxAttempts: 1 },
      rateLimit: { perNumber: { max: 1_000_000 }, perSession: { max: 1_000_000 } },
    },
  },
});
const customer = await startSipp({
  scenario: await bundledScenario('uas-carrier-press-1'),
  address: CARRIER,
  localPort: block.base,
  rtpEcho: true,
  name: 'customer',
});
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
  const toRinging: number[] = [];
  const keyToAdvertiser: number[] = [];
  for (let i = 0; i < N; i += 1) {
    const token = await gw.token({
      scope: `callback:listing.${l.body.id}`,
      privateClaims: { callback: { phone: '+14155550123', when: 'now' } },
    });
    const established = advertiser.waitForEvent('CALL_RTPESTAB', undefined, 30_000);
    const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, destination: `listing.${l.body.id}` }),
    });
    const { id } = (await res.json()) as { id: string };
    if (res.status !== 201) throw new Error(`callback ${i}: ${res.status}`);
    await established;
    await advertiser.hangup();
    await gw.gateway.callbacks.service.watchUntil(id, (e) => e.phase === 'ended');
    const record = await gw.gateway.callbacks.service.get(id);
    if (!record) throw new Error(`callback ${i}: no record`);
    const attempt = record.attempts[0];
    const ringing = attempt?.customer.ringingAt;
    const advertiserRinging = attempt?.advertiser[0]?.ringingAt;
    if (record.outcome !== 'completed' || !ringing || !attempt?.keyAt || !advertiserRinging)
      throw new Error(`callback ${i} ended ${record.outcome}: ${JSON.stringify(record.attempts)}`);
    toRinging.push(ringing - record.createdAt);
    keyToAdvertiser.push(advertiserRinging - attempt.keyAt);
    console.error(`callback ${i + 1}/${N} completed`);
  }
  const show = (name: string, samples: number[]) => {
    const s = summarize(samples);
    console.log(
      `${name}: p50 ${s.p50Ms} ms, p95 ${s.p95Ms} ms, max ${s.maxMs} ms, mean ${s.meanMs.toFixed(1)} ms (${s.samples} callbacks)`,
    );
  };
  let commit = '';
  try {
    commit = execSync('git rev-parse --short HEAD').toString().trim();
  } catch {
    commit = 'unknown';
  }
  console.log(
    `callbacks, one at a time; ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, commit ${commit}, ${new Date().toISOString()}`,
  );
  show('request → customer ringing', toRinging);
  show('"1" → advertiser ringing', keyToAdvertiser);
  console.log(
    `  load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await customer.stop();
  await advertiser.stop();
  await gw.close();
  block.release();
  await stopAll();
}
