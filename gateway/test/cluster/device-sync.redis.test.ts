/**
 * The gated devices' shared presence (cluster/device-sync.ts) on a real
 * redis-server, two gateways' instances and no gateway around them: the keys
 * always expire (a hash's first write gives it an expiry, a later one only
 * moves it later, a write of nothing live leaves no key behind), a forget
 * clears every gateway's, and a gateway's clock ends a sign-in at its time.
 */
import { startRedis, until, type RedisServer } from '@parley/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisDevicePresence } from '../../src/cluster/device-sync.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { testRedisLink } from './test-link.js';

const PREFIX = 'device-sync-test:';
const T = 'acme';
let redis: RedisServer;
const links: RedisLink[] = [];
const presences: RedisDevicePresence[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  presences.forEach((p) => p.close());
  await Promise.all(links.map((l) => l.close()));
  await redis?.stop();
});

/** A gateway's shared device presence, on its own clock. */
async function gateway(instanceId: string, now: () => number = Date.now) {
  const redisLink = testRedisLink(redis.url, PREFIX);
  links.push(redisLink);
  await redisLink.start();
  const presence = new RedisDevicePresence({
    redis: redisLink,
    instanceId,
    logger: pino({ level: 'silent' }),
    now,
  });
  presences.push(presence);
  await presence.start();
  return presence;
}

const pttl = async (key: string) => Number(await redis.cli('PTTL', `${PREFIX}${key}`));

describe('gated devices shared through Redis', () => {
  it('gives every key an expiry that only moves later, and leaves none for nothing live', async () => {
    const a = await gateway('gw-a');
    const b = await gateway('gw-b');
    const soon = Date.now() + 5_000;
    a.setContacts(T, 'cell-1', [{ uri: 'sip:u@10.0.0.1:5060', expiresAt: soon, flowId: 'f1' }]);
    const seen = await until(() => b.contacts(T, 'cell-1', Date.now())[0], 'B to see the contact');
    expect(seen).toEqual({ uri: 'sip:u@10.0.0.1:5060', expiresAt: soon, flowId: undefined });
    for (const key of [`device:${T}:cell-1`, 'device-index']) {
      expect(await pttl(key)).toBeGreaterThan(0);
      expect(await pttl(key)).toBeLessThanOrEqual(5_000);
    }
    // A sign-in lasting longer moves the expiry later; a shorter registration after does not bring it back.
    a.signIn(T, 'cell-1', { residentId: 'r-1', until: Date.now() + 60_000 });
    await until(() => b.signedIn(T, 'cell-1', Date.now()), 'B to see the sign-in');
    expect(await pttl(`device:${T}:cell-1`)).toBeGreaterThan(50_000);
    a.setContacts(T, 'cell-1', [{ uri: 'sip:u@10.0.0.1:5060', expiresAt: soon, flowId: 'f1' }]);
    await until(async () => (await pttl(`device:${T}:cell-1`)) > 50_000, 'the later expiry kept');

    // Contacts already lapsed are not written: no field, no key without an expiry.
    a.setContacts(T, 'cell-2', [
      { uri: 'sip:v@10.0.0.1:5060', expiresAt: Date.now() - 1, flowId: 'f2' },
    ]);
    // A's next write, on the same connection after it, is heard: the first was done by then.
    a.setContacts(T, 'cell-3', [
      { uri: 'sip:w@10.0.0.1:5060', expiresAt: Date.now() + 5_000, flowId: 'f3' },
    ]);
    await until(() => b.contacts(T, 'cell-3', Date.now()).length > 0, 'B to see A’s next write');
    expect(await redis.cli('EXISTS', `${PREFIX}device:${T}:cell-2`)).toMatch(/^0/);
  });

  it('forgets a device on every gateway, its key and its place in the index (a sign-in’s end kept)', async () => {
    const a = await gateway('gw-a2');
    const b = await gateway('gw-b2');
    b.setContacts(T, 'tab-1', [
      { uri: 'sip:t@10.0.0.2:5060', expiresAt: Date.now() + 30_000, flowId: 'f' },
    ]);
    a.signIn(T, 'tab-1', { residentId: 'r-1', until: Date.now() + 30_000 });
    await until(() => a.contacts(T, 'tab-1', Date.now()).length > 0, 'A to see B’s contact');
    await until(() => b.signedIn(T, 'tab-1', Date.now()), 'B to see A’s sign-in');
    a.forget(T, 'tab-1');
    await until(
      () => b.contacts(T, 'tab-1', Date.now()).length === 0 && !b.signedIn(T, 'tab-1', Date.now()),
      'B to forget its own contact and the sign-in',
    );
    // Only the time the sign-in ended, as long as the sign-in would have lasted.
    expect((await redis.cli('HKEYS', `${PREFIX}device:${T}:tab-1`)).trim()).toBe('signedOut');
    expect(await pttl(`device:${T}:tab-1`)).toBeGreaterThan(0);

    // A device with no sign-in leaves nothing.
    b.setContacts(T, 'tab-2', [
      { uri: 'sip:t@10.0.0.2:5060', expiresAt: Date.now() + 30_000, flowId: 'f' },
    ]);
    await until(() => a.contacts(T, 'tab-2', Date.now()).length > 0, 'A to see B’s contact');
    const seen = Date.now();
    await until(() => Date.now() > seen, 'a later millisecond');
    a.forget(T, 'tab-2');
    await until(() => b.contacts(T, 'tab-2', Date.now()).length === 0, 'B to forget its own');
    expect(await redis.cli('EXISTS', `${PREFIX}device:${T}:tab-2`)).toMatch(/^0/);
    expect(
      await redis.cli('ZSCORE', `${PREFIX}device-index`, `${PREFIX}device:${T}:tab-2`),
    ).not.toMatch(/\d/);
  });

  it('ends a sign-in made elsewhere at its time by the gateway’s clock, and a gateway started after reads it', async () => {
    let now = Date.now();
    const a = await gateway('gw-a3');
    a.signIn(T, 'tab-9', { residentId: 'r-9', until: now + 10_000 });
    a.setContacts(T, 'tab-9', [
      { uri: 'sip:n@10.0.0.1:5060', expiresAt: now + 20_000, flowId: 'f' },
    ]);
    await until(async () => (await pttl(`device:${T}:tab-9`)) > 10_000, 'A’s writes');
    const c = await gateway('gw-c3', () => now);
    expect(c.signedIn(T, 'tab-9', now)?.residentId).toBe('r-9');
    expect(c.contacts(T, 'tab-9', now)).toHaveLength(1);
    now += 10_000;
    expect(c.signedIn(T, 'tab-9', now)).toBeUndefined();
    expect(c.contacts(T, 'tab-9', now)).toHaveLength(1);
    now += 10_000;
    expect(c.contacts(T, 'tab-9', now)).toEqual([]);
  });
});
