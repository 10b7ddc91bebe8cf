/**
 * The retries of writes that fail while Redis stays up (cluster/retries.ts)
 * for the stores write-retry.redis.test.ts does not cover: caller-ID number
 * claims, queue notices and gated devices, on a real redis-server. Writes are
 * refused for a while with the connection untouched (no reconnection to set
 * off a rewrite): `min-replicas-to-write 1` with no replica answers every
 * write `NOREPLICAS`, and a PUBLISH (not a write to that check) is refused by
 * taking the permission from the user (`ACL SETUSER default -publish`:
 * `NOPERM`). Each write must land once Redis takes it again, once, and the
 * store's retries must be counted and left at zero pending. Without the
 * retries nothing writes them again until a reconnection: here, never.
 */
import { startRedis, until, type RedisServer } from '@parley/testkit';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisDevicePresence } from '../../src/cluster/device-sync.js';
import { RedisNumberLeases } from '../../src/cluster/number-leases.js';
import { RedisQueueChanges } from '../../src/cluster/queue-changes.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { testRedisLink } from './test-link.js';

const PREFIX = 'store-retries-test:';
/** How soon a write that failed must land once Redis takes it again (the back-off's cap is 5 s). */
const LANDS_WITHIN_MS = 6_000;
const logger = pino({ level: 'silent' });
let redis: RedisServer;
const closers: (() => void | Promise<void>)[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await redis.cli('CONFIG', 'SET', 'min-replicas-to-write', '0');
  await redis.cli('ACL', 'SETUSER', 'default', '+publish');
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await redis?.stop();
});

/** Every write refused (`NOREPLICAS`) while `refused`; reads and PUBLISH still answered. */
const writesRefused = (refused: boolean) =>
  redis.cli('CONFIG', 'SET', 'min-replicas-to-write', refused ? '1' : '0');
/** Every PUBLISH refused (`NOPERM`) while `refused`, on the connections already open too. */
const publishRefused = (refused: boolean) =>
  redis.cli('ACL', 'SETUSER', 'default', refused ? '-publish' : '+publish');

/** A gateway's link, up, with its outages counted (the test shows there were none). */
async function link(): Promise<{ link: RedisLink; downs: () => number }> {
  const l = testRedisLink(redis.url, PREFIX);
  let downs = 0;
  l.on('down', () => (downs += 1));
  closers.push(() => l.close());
  await l.start();
  expect(l.up).toBe(true);
  return { link: l, downs: () => downs };
}

/** How many of `op`'s commands failed on `l` (`parley_shared_redis_errors_total{op}`). */
async function failures(l: RedisLink, op: string): Promise<number> {
  const metric = await l.metrics.redisErrors.get();
  return metric.values.find((v) => v.labels.op === op)?.value ?? 0;
}

/** `store`'s retries made, and its writes waiting for one, on `l`. */
async function retries(l: RedisLink, store: string): Promise<{ made: number; waiting: number }> {
  const made = (await l.metrics.redisRetries.get()).values.find((v) => v.labels.store === store);
  const waiting = (await l.metrics.redisUnwritten.get()).values.find(
    (v) => v.labels.store === store,
  );
  return { made: made?.value ?? 0, waiting: waiting?.value ?? 0 };
}

/** Every message on `channel` (a key under the prefix), as another gateway would hear it. */
async function overhear(channel: string): Promise<string[]> {
  const { link: l } = await link();
  const heard: string[] = [];
  await l.listen(
    l.key(channel),
    (text) => heard.push(text),
    'overheard',
    () => undefined,
  );
  return heard;
}

describe('a store’s write refused while Redis stays up lands once Redis takes it', () => {
  it('a caller-ID number claim: the number is the session’s on every gateway', async () => {
    const a = await link();
    const b = await link();
    const leases = (l: RedisLink) => {
      const n = new RedisNumberLeases(l, { heartbeatSeconds: 60, leaseSeconds: 120 });
      closers.push(() => n.close());
      return n;
    };
    const numbersA = leases(a.link);
    const numbersB = leases(b.link);
    const key = `${PREFIX}number:+15550001`;

    await writesRefused(true);
    // Granted: A goes on alone, and claims it again until Redis takes it.
    expect(await numbersA.claim('+15550001', 'session-a', 60_000)).toBe(true);
    expect(await failures(a.link, 'number_claim')).toBeGreaterThan(0);
    expect(await redis.cli('EXISTS', key)).toMatch(/^0/);
    await writesRefused(false);
    const allowed = Date.now();
    await until(
      async () => (await redis.cli('GET', key)).trim() === 'session-a',
      'A’s claim landed',
      LANDS_WITHIN_MS,
    );
    expect(Date.now() - allowed).toBeLessThan(LANDS_WITHIN_MS);
    expect((await redis.cli('GET', `${PREFIX}number-of:session-a`)).trim()).toBe('+15550001');
    // B cannot give the same number to another session.
    expect(await numbersB.claim('+15550001', 'session-b', 60_000)).toBe(false);
    await until(async () => (await retries(a.link, 'numbers')).waiting === 0, 'nothing waiting');
    expect((await retries(a.link, 'numbers')).made).toBeGreaterThan(0);
    expect(a.downs()).toBe(0);
  });

  it('a queue notice: the other gateway looks at the queue, once', async () => {
    const a = await link();
    const b = await link();
    const changes = async (l: RedisLink, instanceId: string) => {
      const c = new RedisQueueChanges({ redis: l, instanceId, logger });
      closers.push(() => c.close());
      await c.start();
      return c;
    };
    const queuesA = await changes(a.link, 'gw-a');
    const queuesB = await changes(b.link, 'gw-b');
    const heard: string[] = [];
    queuesB.subscribe((queue) => heard.push(queue));

    await publishRefused(true);
    queuesA.publish('sales');
    queuesA.publish('sales');
    await until(async () => (await failures(a.link, 'queue_notice')) >= 2, 'A’s notices refused');
    expect(heard).toEqual([]);
    await publishRefused(false);
    const allowed = Date.now();
    await until(() => heard.length > 0, 'B heard the notice', LANDS_WITHIN_MS);
    expect(Date.now() - allowed).toBeLessThan(LANDS_WITHIN_MS);
    await until(async () => (await retries(a.link, 'queue_notices')).waiting === 0, 'none waiting');
    // A later notice on the same connection comes after any copy of the first.
    queuesA.publish('support');
    await until(() => heard.includes('support'), 'B heard the next one');
    expect(heard).toEqual(['sales', 'support']);
    expect((await retries(a.link, 'queue_notices')).made).toBeGreaterThan(0);
    expect(a.downs()).toBe(0);
  });

  it('a gated device’s registration through A: B rings it, told once', async () => {
    const a = await link();
    const b = await link();
    const presence = async (l: RedisLink, instanceId: string) => {
      const p = new RedisDevicePresence({ redis: l, instanceId, logger, now: Date.now });
      closers.push(() => p.close());
      await p.start();
      return p;
    };
    const devicesA = await presence(a.link, 'gw-a3');
    const devicesB = await presence(b.link, 'gw-b3');
    const messages = await overhear('devices');
    const contact = { uri: 'sip:cell@10.0.0.7:5060', expiresAt: Date.now() + 60_000 };

    await writesRefused(true);
    devicesA.setContacts('acme', 'cell-7', [{ ...contact, flowId: 'f7' }]);
    await until(async () => (await failures(a.link, 'device_contacts')) > 0, 'A’s write refused');
    expect(await redis.cli('EXISTS', `${PREFIX}device:acme:cell-7`)).toMatch(/^0/);
    expect(devicesB.contacts('acme', 'cell-7', Date.now())).toEqual([]);
    await writesRefused(false);
    const allowed = Date.now();
    const seen = await until(
      () => devicesB.contacts('acme', 'cell-7', Date.now())[0],
      'B sees the contact',
      LANDS_WITHIN_MS,
    );
    expect(Date.now() - allowed).toBeLessThan(LANDS_WITHIN_MS);
    expect(seen).toEqual({ ...contact, flowId: undefined });
    await until(async () => (await retries(a.link, 'devices')).waiting === 0, 'nothing waiting');
    // A later change on the same connection comes after any copy of the first.
    devicesA.setContacts('acme', 'cell-8', [{ ...contact, flowId: 'f8' }]);
    await until(() => devicesB.contacts('acme', 'cell-8', Date.now()).length > 0, 'the next one');
    const told = messages.filter((m) => m.includes('"address":"cell-7"'));
    expect(told).toHaveLength(1);
    expect((await retries(a.link, 'devices')).made).toBeGreaterThan(0);
    expect(a.downs()).toBe(0);
  });
});
