/**
 * An agent's slot claim that lapses tells the queues, as a release does
 * (issue 16). The only agent (baresip, registered with A) answers a call on
 * gateway B (a child process); a caller on A waits in the queue, since the
 * agent's slot is B's. B is SIGKILLed: no BYE, no release, no agent change
 * anywhere; B's claim only stops counting once its lease lapses. The agent's
 * phone leaves the dead call (its BYE goes to B, nobody hears it). Then A
 * rings the agent for its waiting caller (the phone's second INVITE comes
 * from A) within the lease of the kill, and the caller is bridged. Before the
 * fix the caller waited until its `maxWaitSeconds`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundledScenario,
  PortAllocator,
  runSipp,
  sippAvailable,
  spawnGateway,
  startBaresipAgent,
  startRedis,
  stopAll,
  until,
  type BaresipAgent,
  type ManagedProcess,
  type PortBlock,
  type RedisServer,
} from '@parley/testkit';
import type { WaitingEntry } from '../../src/queues/index.js';
import { answeredVisitorCall, childGatewayConfig } from '../answered-visitor-call.js';
import { startTestGateway, testKeys, type TestGateway } from '../harness.js';
import { RawSipClient } from '../raw-sip.js';
import { RtpVisitor } from '../rtp-visitor.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-claim-lapse-'));
const ports = new PortAllocator();
const CLUSTER = { heartbeatSeconds: 1, leaseSeconds: 3 };
const PREFIX = 'lapse-test:';

let redis: RedisServer;
let a: TestGateway;
let b: ManagedProcess | undefined;
let sipPort: PortBlock;
let mediaPorts: PortBlock;
let phone: BaresipAgent;
let client: RawSipClient;
let visitor: RtpVisitor;

beforeAll(async () => {
  redis = await startRedis();
  const keys = await testKeys();
  const shared = { redis: { url: redis.url, keyPrefix: PREFIX }, ...CLUSTER };
  a = await startTestGateway({
    keys,
    queueExtra: { waiting: { announceEverySeconds: 0, maxWaitSeconds: 60 } },
    config: { media: { address: '127.0.0.1' }, shared: { ...shared, instanceId: 'gw-a' } },
  });
  phone = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: a.udp,
    transport: 'udp',
  });
  await phone.registered();
  // B reads the agents' registrations from Redis as it starts: A's must be there.
  const probe = new Redis(redis.url);
  try {
    await until(
      async () => (await probe.hkeys(`${PREFIX}agent:agent1`)).includes('contacts:gw-a'),
      'the phone’s registration with A in Redis',
    );
  } finally {
    probe.disconnect();
  }

  sipPort = await ports.allocate(1, { protocols: ['udp'] });
  mediaPorts = await ports.allocate(16, { protocols: ['udp'], even: true });
  const configPath = join(dir, 'b.json');
  writeFileSync(
    configPath,
    childGatewayConfig({
      gatewayId: a.gateway.config.gatewayId,
      gatewayKey: keys.gateway.privateJwk,
      tenantKey: keys.tenant.publicJwk,
      sipPort: sipPort.base,
      media: mediaPorts,
      extra: {
        storage: { path: join(dir, 'b.sqlite') },
        shared: { ...shared, instanceId: 'gw-b' },
      },
    }),
  );
  b = (await spawnGateway({ configPath, name: 'parley-b' })).process;
  client = await RawSipClient.open();
  visitor = await RtpVisitor.open('PCMU');
}, 120_000);

afterAll(async () => {
  client?.close();
  visitor?.close();
  await phone?.stop();
  await b?.stop();
  await a?.close();
  await redis?.stop();
  await stopAll();
  sipPort?.release();
  mediaPorts?.release();
  rmSync(dir, { recursive: true, force: true });
});

/** A's view of the `sales` queue once `test` holds (the queue service's event). */
async function waitingOnA(
  test: (callers: readonly WaitingEntry[]) => boolean,
): Promise<readonly WaitingEntry[]> {
  const signal = AbortSignal.timeout(15_000);
  for (;;) {
    const [name, callers] = (await once(a.gateway.telephony.queues, 'waiting', { signal })) as [
      string,
      readonly WaitingEntry[],
    ];
    if (name === 'sales' && test(callers)) return callers;
  }
}

describe.skipIf(!sippAvailable())('a slot claim that lapses', () => {
  it('offers the agent to a caller waiting on A once the claim of a killed B lapses', async () => {
    const port = (address: string) => address.slice(address.lastIndexOf(':') + 1);
    // The agent answers a call on B: B holds its only slot, renewed every heartbeat.
    await answeredVisitorCall({
      client,
      visitor,
      phone,
      sip: `127.0.0.1:${sipPort.base}`,
      token: await a.token({ subject: 'on-b' }),
      callId: `lapse-${Date.now()}`,
    });
    expect(phone.receivedRequests('INVITE')).toHaveLength(1);

    // A caller on A waits: the agent's slot is B's.
    const joined = waitingOnA((w) => w.length === 1);
    const caller = runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: a.udp,
      service: 'sales',
      calls: 1,
      callDurationMs: 12_000,
      injection: { rows: [[await a.token({ subject: 'waiting-on-a' })]] },
      timeoutMs: 60_000,
    });
    const callId = (await joined)[0]!.callId;
    expect(phone.receivedRequests('INVITE')).toHaveLength(1);

    // B dies: nothing releases its claim, nobody tells the queue.
    b?.signal('SIGKILL');
    expect((await b?.exited)?.signal).toBe('SIGKILL');
    const killedAt = Date.now();
    const since = phone.sipMessages().length;
    await phone.hangup(); // its BYE goes to the dead B

    // B's last renewal lapses within the lease of the kill and the notice follows
    // at once (2.3-2.7 s after the kill with a 3 s lease, alone); without the
    // notice nothing rings the phone again within 15 s (the caller waits up to
    // its queue's longest wait), so the bound here is that, not a timing.
    const invite = await phone.waitForRequest('INVITE', undefined, 15_000, { since });
    const rungAfterMs = Date.now() - killedAt;
    expect(invite.source).toContain(`:${port(a.udp)}`);

    const result = await caller;
    expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
    await a.callsEnded();
    expect(await a.gateway.callStore.get(callId)).toMatchObject({
      sessionId: 'waiting-on-a',
      agentId: 'agent1',
      outcome: 'answered',
    });
    console.log(`agent rung ${rungAfterMs} ms after the kill (lease ${CLUSTER.leaseSeconds} s)`);
  }, 90_000);
});
