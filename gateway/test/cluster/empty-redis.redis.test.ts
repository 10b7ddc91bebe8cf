/**
 * Redis restarted empty (no persistence), two gateways' agent stores on a
 * real redis-server: A comes back first and writes its state anew, B is still
 * cut off (its own relay). A's read finds none of B's fields (agents' phones
and calls, devices' contacts and sign-ins), which B has not
 * written again yet: that is no removal (cluster/written-marks.ts). Before: A
 * took it for one and dropped B's phone and B's ringing call until B wrote
 * them again (and for good had B never come back, instead of at their
 * expiry, as a killed gateway's fields go). Once B is back and has written
 * its state, a removal through B still reaches A.
 */
import { startRedis, until, type RedisServer } from '@parley/testkit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentDirectory } from '../../src/agents/agent-directory.js';
import { RedisAgentCalls } from '../../src/cluster/agent-calls.js';
import { RedisAgentSync } from '../../src/cluster/agent-sync.js';
import { RedisDevicePresence } from '../../src/cluster/device-sync.js';
import { ClusterMetrics } from '../../src/cluster/metrics.js';
import { RedisLink } from '../../src/cluster/redis-link.js';
import { redisThroughCut, type RedisCut } from './redis-cut.js';

const PREFIX = 'empty-redis-test:';
let redis: RedisServer;
let bWay: RedisCut;
const closers: (() => void | Promise<void>)[] = [];

beforeAll(async () => {
  redis = await startRedis();
  bWay = await redisThroughCut(redis.port);
});
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await bWay?.close();
  await redis?.stop();
});

async function gateway(instanceId: string, url: string) {
  const metrics = new ClusterMetrics(new Registry());
  const link = new RedisLink(
    { url, keyPrefix: PREFIX, commandTimeoutMs: 500, connectTimeoutMs: 2000 },
    { logger: pino({ level: 'silent' }), metrics },
  );
  await link.start();
  const agents = new AgentDirectory([{ id: 'sue', tenant: 'acme', queues: [], maxCalls: 1 }]);
  const deps = { redis: link, agents, instanceId, logger: pino({ level: 'silent' }) };
  const sync = new RedisAgentSync(deps);
  const calls = new RedisAgentCalls({ ...deps, heartbeatSeconds: 60, leaseSeconds: 120 });
  const devices = new RedisDevicePresence({ ...deps, now: Date.now });
  closers.push(async () => {
    sync.close();
    calls.close();
    devices.close();
    agents.close();
    await link.close();
  });
  await Promise.all([sync.start(), calls.start(), devices.start()]);
  /** How many reads of the agents' and devices' hashes this gateway has sent. */
  const reads = async () => {
    const sent = (await metrics.redisOps.get()).values;
    return ['agent_load', 'agent_calls_load', 'device_load'].map(
      (op) => sent.find((v) => v.labels.op === op)?.value ?? 0,
    );
  };
  return { link, agents, devices, reads };
}

describe('Redis back empty, one gateway still cut off', () => {
  it('the first gateway back keeps the other’s phone and calls until it writes them', async () => {
    const a = await gateway('gw-a', redis.url);
    const b = await gateway('gw-b', bWay.url);
    b.agents.setContacts('sue', [
      { uri: 'sip:sue@10.0.0.9:5060', expiresAt: Date.now() + 3_600_000, flowId: 'f' },
    ]);
    const stopRinging = b.agents.ringStarted('sue');
    const inAnHour = Date.now() + 3_600_000;
    b.devices.setContacts('acme', 'cell-1', [
      { uri: 'sip:cell@10.0.0.8:5060', expiresAt: inAnHour, flowId: undefined },
    ]);
    b.devices.signIn('acme', 'tab-1', { residentId: 'r-1', until: inAnHour });
    const seenOnA = () =>
      a.agents.get('sue')?.registered &&
      a.agents.get('sue')?.ringing === 1 &&
      a.devices.contacts('acme', 'cell-1', Date.now()).length === 1 &&
      a.devices.signedIn('acme', 'tab-1', Date.now())?.residentId === 'r-1';
    await until(seenOnA, 'A sees B’s phone registered and ringing, the device and the sign-in');

    bWay.cut();
    const before = await a.reads();
    await redis.kill();
    await until(() => !a.link.up && !b.link.up, 'both cut off');
    await redis.restart();
    // A back: it writes its own, then reads every hash (both stores).
    await until(async () => {
      const now = await a.reads();
      return a.link.up && now.every((n, i) => n > (before[i] ?? 0));
    }, 'A back and reading');
    // Three round trips on A's connection after its reads were sent: their replies applied.
    for (let i = 0; i < 3; i += 1) await a.link.client.ping();
    expect((await redis.cli('EXISTS', `${PREFIX}agent:sue`)).trim()).toBe('0');
    expect(a.agents.get('sue')?.registered).toBe(true);
    expect(a.agents.get('sue')?.ringing).toBe(1);
    expect(a.devices.contacts('acme', 'cell-1', Date.now())).toHaveLength(1);
    expect(a.devices.signedIn('acme', 'tab-1', Date.now())?.residentId).toBe('r-1');

    bWay.heal();
    await until(
      async () =>
        (
          await Promise.all(
            ['agents', 'agent-calls', 'devices'].map((store) =>
              redis.cli('HGET', `${PREFIX}written:${store}`, 'gw-b'),
            ),
          )
        ).every((mark) => mark.trim() !== ''),
      'B back and its state written',
      20_000,
    );
    expect(seenOnA()).toBe(true);
    // B whole again: what B removes is removed on A.
    b.agents.setContacts('sue', []);
    stopRinging();
    b.devices.setContacts('acme', 'cell-1', []);
    b.devices.signOut('acme', 'tab-1');
    await until(
      () =>
        !a.agents.get('sue')?.registered &&
        a.agents.get('sue')?.ringing === 0 &&
        a.devices.contacts('acme', 'cell-1', Date.now()).length === 0 &&
        !a.devices.signedIn('acme', 'tab-1', Date.now()),
      'A sees B’s phone gone, its ring over, the device gone and the resident signed out',
    );
  });
});
