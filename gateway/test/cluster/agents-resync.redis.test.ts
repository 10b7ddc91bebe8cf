/**
 * An agent's change made through gateway A while Redis is away reaches B
 * within seconds of Redis coming back, not at the change's expiry (issue 16),
 * whether Redis comes back empty or with what it held when it went away, and
 * also when A writes its state anew before B is back (B then missed A's
 * message: B's read of the hashes must carry it). Each gateway reaches Redis
 * through a relay the test cuts (`redis-cut.ts`), so the order is fixed:
 * Redis back, A back and done writing, then B back. Before: a call that ended
 * on A meanwhile showed busy on B until the lease of A's last count (120 s
 * here), and a phone unregistered through A meanwhile was still rung by B
 * until its registration's end (an hour).
 */
import {
  startBaresipAgent,
  startRedis,
  stopAll,
  until,
  type BaresipAgent,
  type RedisServer,
} from '@parley/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentDirectory } from '../../src/agents/agent-directory.js';
import { RedisAgentSync } from '../../src/cluster/agent-sync.js';
import { startTestGateway, testKeys, type TestGateway } from '../harness.js';
import { RawSipClient } from '../raw-sip.js';
import { redisThroughCut, type RedisCut } from './redis-cut.js';
import { visitorCall } from './two-gateways.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { testRedisLink } from './test-link.js';

const PREFIX = 'agents-resync-test:';
/** Far longer than the test: only the writing anew ends a count on B in time. */
const LEASE_SECONDS = 120;
let redis: RedisServer;
let a: TestGateway;
let b: TestGateway;
let aWay: RedisCut;
let bWay: RedisCut;
let phone: BaresipAgent;
/** The test's own listener on the `agents` channel: A's messages, counted. */
let watcher: RedisLink;
let fromA = 0;
let watcherSubscribed = 0;

beforeAll(async () => {
  redis = await startRedis();
  aWay = await redisThroughCut(redis.port);
  bWay = await redisThroughCut(redis.port);
  const keys = await testKeys();
  const start = (instanceId: string, url: string) =>
    startTestGateway({
      keys,
      agents: [{ id: 'agent1', maxCalls: 1 }],
      config: {
        media: { address: '127.0.0.1' },
        shared: {
          instanceId,
          leaseSeconds: LEASE_SECONDS,
          redis: { url, keyPrefix: PREFIX },
        },
      },
    });
  a = await start('gw-a', aWay.url);
  b = await start('gw-b', bWay.url);
  watcher = testRedisLink(redis.url, PREFIX);
  await watcher.listen(
    watcher.key('agents'),
    (text) => {
      if ((JSON.parse(text) as { instance?: string }).instance === 'gw-a') fromA += 1;
    },
    'the test',
    () => (watcherSubscribed += 1),
  );
  phone = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: a.udp,
    transport: 'udp',
    answerMode: 'auto',
  });
  await phone.registered();
  await until(() => b.gateway.agents.get('agent1')?.registered, 'B hears the phone');
});
afterAll(async () => {
  await phone?.stop();
  await a?.close();
  await b?.close();
  await watcher?.close();
  await aWay?.close();
  await bWay?.close();
  await redis?.stop();
  await stopAll();
});

/**
 * Redis goes away (`keepData`: after a snapshot), `change` is made through A,
 * Redis comes back; A is let back and writes its state anew, and only then B.
 * A writes on each of its links' return (commands up, the `agents` channel
 * subscribed again), in either order: A is done when both are back, it was
 * heard, and three round trips on its command link bring no more.
 */
async function outage(keepData: boolean, change: () => Promise<void>): Promise<void> {
  aWay.cut();
  bWay.cut();
  await redis.kill({ keepData });
  await until(
    () => !a.gateway.shared.redis?.up && !b.gateway.shared.redis?.up,
    'both gateways cut off',
  );
  await change();
  const subscribed = watcherSubscribed;
  await redis.restart({ keepData });
  await until(() => watcherSubscribed > subscribed, 'the test listens again', 20_000);
  const told = fromA;
  aWay.heal();
  const aLink = a.gateway.shared.redis;
  await until(
    async () =>
      aLink?.up &&
      fromA > told &&
      (await redis.cli('PUBSUB', 'NUMSUB', `${PREFIX}agents`)).trim().endsWith('2'),
    'A back, subscribed, and heard',
    20_000,
  );
  await until(async () => {
    const heard = fromA;
    for (let i = 0; i < 3; i += 1) await aLink?.client.ping();
    return fromA === heard;
  }, 'A done writing');
  bWay.heal();
}

describe('agents across a Redis outage, B back after A', () => {
  it.each([false, true])(
    'a call that ended on A meanwhile is over on B once back (Redis kept its data: %s), and B offers one call',
    async (keepData) => {
      const call = visitorCall(a, `on-a-${keepData}`, 2000);
      await until(() => (b.gateway.agents.get('agent1')?.activeCalls ?? 0) > 0, 'B shows busy');
      await outage(keepData, async () => {
        expect((await call).stats.successful).toBe(1);
        await a.callsEnded();
        expect(a.gateway.agents.get('agent1')?.activeCalls).toBe(0);
      });
      const back = Date.now();
      await until(() => b.gateway.agents.get('agent1')?.activeCalls === 0, 'B shows free', 10_000);
      expect(Date.now() - back).toBeLessThan(5_000);
      expect(b.gateway.agents.get('agent1')?.state).toBe('available');

      // B rings the agent for its own caller, once.
      const mark = phone.sipMessages().length;
      const onB = await visitorCall(b, `on-b-${keepData}`, 300);
      expect(onB.stats.successful, onB.output).toBe(1);
      const invites = new Set(
        phone
          .sipMessages()
          .slice(mark)
          .filter((m) => m.method === 'INVITE' && m.direction === 'in')
          .map((m) => m.header('call-id')),
      );
      expect(invites.size).toBe(1);
      await b.callsEnded();
    },
    90_000,
  );

  it.each([false, true])(
    'a phone unregistered through A meanwhile is not rung by B once back (Redis kept its data: %s)',
    async (keepData) => {
      const sip = await RawSipClient.open();
      try {
        // Registered through A for an hour (a real REGISTER), known to B.
        const contact = [`<${phone.uri}>`];
        expect(
          (await sip.register(a.udp, 'agent1', 'secret', contact, ['Expires: 3600'], 'MD5')).status,
        ).toBe(200);
        await until(() => b.gateway.agents.get('agent1')?.registered, 'B hears the registration');
        await outage(keepData, async () => {
          const gone = await sip.register(a.udp, 'agent1', 'secret', ['*'], ['Expires: 0'], 'MD5');
          expect(gone.status).toBe(200);
          expect(a.gateway.agents.get('agent1')?.registered).toBe(false);
        });
        const back = Date.now();
        await until(
          () => b.gateway.agents.get('agent1')?.registered === false,
          'B drops it',
          10_000,
        );
        expect(Date.now() - back).toBeLessThan(5_000);
      } finally {
        sip.close();
      }
    },
    90_000,
  );
});

/**
 * Module-level, A through its own relay: A's read of the agents' hashes is a
 * pipeline, not atomic with the channel. Its reply held back until after A
 * heard B's phone unregister (the field removed, published), then let go:
 * it still holds B's old contacts. Before: A applied them (B's phone rung by
 * A until its registration's end).
 */
describe('agents: a read answered after a message heard', () => {
  it('keeps a phone unregistered through B that the message told', async () => {
    const way = await redisThroughCut(redis.port);
    const links: RedisLink[] = [];
    const syncs: RedisAgentSync[] = [];
    const gateway = async (instanceId: string, url: string) => {
      const link = testRedisLink(url, 'agents-read-test:');
      links.push(link);
      await link.start();
      const agents = new AgentDirectory([{ id: 'sue', tenant: 'acme', queues: [], maxCalls: 1 }]);
      const sync = new RedisAgentSync({
        redis: link,
        agents,
        instanceId,
        logger: pino({ level: 'silent' }),
      });
      syncs.push(sync);
      await sync.start();
      return { agents, sync };
    };
    try {
      const ra = await gateway('gw-ra', way.url);
      const rb = await gateway('gw-rb', redis.url);
      const heardB = () => ra.agents.remoteOrigins('sue').contacts.includes('gw-rb');
      rb.agents.setContacts('sue', [
        { uri: 'sip:sue@10.0.0.9:5060', expiresAt: Date.now() + 3_600_000, flowId: 'f' },
      ]);
      await until(heardB, 'A hears B’s phone');
      way.holdReplies('hgetall');
      const reading = ra.sync.load();
      await until(() => way.held() > 0, 'A’s read answered, the reply held');
      rb.agents.setContacts('sue', []);
      await until(() => !heardB(), 'A hears it unregistered');
      way.release();
      expect(await reading).toBe(true);
      expect(ra.agents.remoteOrigins('sue').contacts).toEqual([]);
      expect(ra.agents.get('sue')?.registered).toBe(false);
    } finally {
      syncs.forEach((s) => s.close());
      await Promise.all(links.map((l) => l.close()));
      await way.close();
    }
  });
});
