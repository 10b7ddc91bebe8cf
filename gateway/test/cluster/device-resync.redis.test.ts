/**
 * Gated devices' removals made through gateway A while Redis is away reach B
 * within seconds of Redis coming back with what it held when it went away (a
 * persisted Redis, a replica promoted), on a real redis-server with two
 * gateways' shared device presence (cluster/device-sync.ts). Before: A never
 * wrote a sign-out, a device's last contact gone or a forget again, so the
 * hash kept them; B read them back (and A too: the resident it signed out was
 * signed in again) until the hash's expiry. A Redis back empty needed nothing
 * (the reads replace what each held), nor a change A still holds (written
 * anew: gated-devices.redis.test.ts).
 *
 * Then A alone cut from Redis (`redis-cut.ts`) while B goes on: what A writes
 * again once back must not undo what B did meanwhile (a later sign-in, a
 * sign-out, a registration after A's forget), and a read of A's answered
 * after a message it heard must not put back what that message removed.
 */
import { startRedis, until, type RedisServer } from '@parley/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisDevicePresence } from '../../src/cluster/device-sync.js';
import { redisThroughCut, type RedisCut } from './redis-cut.js';
import type { RedisLink } from '../../src/cluster/redis-link.js';
import { testRedisLink } from './test-link.js';

const PREFIX = 'device-resync-test:';
const T = 'acme';
/** Far longer than the test: only the writing anew ends them on B in time. */
const HOUR = 3_600_000;
let redis: RedisServer;
const links: RedisLink[] = [];
const presences: RedisDevicePresence[] = [];
const ways: RedisCut[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  presences.forEach((p) => p.close());
  await Promise.all(links.map((l) => l.close()));
  await Promise.all(ways.map((w) => w.close()));
  await redis?.stop();
});

async function gateway(instanceId: string, url = redis.url) {
  const link = testRedisLink(url, PREFIX);
  links.push(link);
  await link.start();
  const presence = new RedisDevicePresence({
    redis: link,
    instanceId,
    logger: pino({ level: 'silent' }),
    now: Date.now,
  });
  presences.push(presence);
  await presence.start();
  return { link, presence };
}

/** Redis killed after a snapshot, `change` made meanwhile, Redis back with the snapshot. */
async function outageKeepingData(
  gateways: { link: RedisLink }[],
  change: () => void,
): Promise<number> {
  await redis.kill({ keepData: true });
  await until(() => gateways.every((g) => !g.link.up), 'the links down');
  change();
  await redis.restart({ keepData: true });
  return Date.now();
}

const contact = (uri: string) => [{ uri, expiresAt: Date.now() + HOUR, flowId: 'f' }];

describe('gated devices across a Redis outage (Redis back with its data)', () => {
  it('a sign-out through A meanwhile holds on B and on A', async () => {
    const a = await gateway('gw-a1');
    const b = await gateway('gw-b1');
    a.presence.signIn(T, 'tab-1', { residentId: 'r-1', until: Date.now() + HOUR });
    await until(() => b.presence.signedIn(T, 'tab-1', Date.now()), 'B sees the sign-in');
    const back = await outageKeepingData([a, b], () => a.presence.signOut(T, 'tab-1'));
    await until(() => a.link.up && b.link.up, 'both back', 20_000);
    await until(() => !b.presence.signedIn(T, 'tab-1', Date.now()), 'B sees the sign-out', 10_000);
    expect(Date.now() - back).toBeLessThan(5_000);
    expect(a.presence.signedIn(T, 'tab-1', Date.now())).toBeUndefined();
    await until(
      async () =>
        !(await redis.cli('HEXISTS', `${PREFIX}device:${T}:tab-1`, 'signIn')).includes('1'),
      'the sign-in gone from Redis',
    );
  });

  it('a device whose registration with A ended meanwhile is not rung through B, its other contact is, once', async () => {
    const a = await gateway('gw-a2');
    const b = await gateway('gw-b2');
    a.presence.setContacts(T, 'cell-2', contact('sip:u@10.0.0.1:5060'));
    b.presence.setContacts(T, 'cell-2', contact('sip:u@10.0.0.9:5060'));
    await until(() => b.presence.contacts(T, 'cell-2', Date.now()).length === 2, 'B sees both');
    const back = await outageKeepingData([a, b], () => a.presence.setContacts(T, 'cell-2', []));
    await until(
      () => b.presence.contacts(T, 'cell-2', Date.now()).length === 1,
      'B drops A’s contact',
      10_000,
    );
    expect(Date.now() - back).toBeLessThan(5_000);
    expect(b.presence.contacts(T, 'cell-2', Date.now()).map((c) => c.uri)).toEqual([
      'sip:u@10.0.0.9:5060',
    ]);
    await until(
      () => a.presence.contacts(T, 'cell-2', Date.now()).length === 1,
      'A sees B’s, once',
    );
  });

  it('a device forgotten through A meanwhile (a new credential) is forgotten by B', async () => {
    const a = await gateway('gw-a3');
    const b = await gateway('gw-b3');
    a.presence.setContacts(T, 'cell-3', contact('sip:v@10.0.0.1:5060'));
    a.presence.signIn(T, 'cell-3', { residentId: 'r-3', until: Date.now() + HOUR });
    await until(
      () =>
        b.presence.signedIn(T, 'cell-3', Date.now()) &&
        b.presence.contacts(T, 'cell-3', Date.now()).length === 1,
      'B sees the device',
    );
    const back = await outageKeepingData([a, b], () => a.presence.forget(T, 'cell-3'));
    await until(
      () =>
        !b.presence.signedIn(T, 'cell-3', Date.now()) &&
        b.presence.contacts(T, 'cell-3', Date.now()).length === 0,
      'B forgets it',
      10_000,
    );
    expect(Date.now() - back).toBeLessThan(5_000);
    expect(a.presence.contacts(T, 'cell-3', Date.now())).toEqual([]);
    expect(a.presence.signedIn(T, 'cell-3', Date.now())).toBeUndefined();
    await until(
      async () => (await redis.cli('HKEYS', `${PREFIX}device:${T}:cell-3`)).trim() === 'signedOut',
      'the hash gone but for the sign-in’s end',
    );
  });
});

/** Gateway A through a relay the test cuts, B straight to Redis. */
async function cutPair(n: number) {
  const way = await redisThroughCut(redis.port);
  ways.push(way);
  const a = await gateway(`gw-a${n}`, way.url);
  const b = await gateway(`gw-b${n}`);
  /** A cut, `change` made through B meanwhile, A back. */
  const whileCut = async (change: () => void | Promise<void>) => {
    way.cut();
    await until(() => !a.link.up, 'A cut off');
    await change();
    way.heal();
    await until(() => a.link.up, 'A back', 10_000);
  };
  return { a, b, way, whileCut };
}

const signInField = async (address: string) =>
  redis.cli('HGET', `${PREFIX}device:${T}:${address}`, 'signIn');

describe('gated devices: what a gateway cut off writes again spares what the others did meanwhile', () => {
  it('a later sign-in through B is not overwritten by A’s older one', async () => {
    const { a, b, whileCut } = await cutPair(4);
    a.presence.signIn(T, 'tab-4', { residentId: 'r-1', until: Date.now() + HOUR });
    await until(() => b.presence.signedIn(T, 'tab-4', Date.now()), 'B sees r-1');
    await whileCut(() =>
      b.presence.signIn(T, 'tab-4', { residentId: 'r-2', until: Date.now() + HOUR }),
    );
    await until(
      () => a.presence.signedIn(T, 'tab-4', Date.now())?.residentId === 'r-2',
      'A reads r-2',
      10_000,
    );
    expect(await signInField('tab-4')).toContain('"r-2"');
    // A's next message reaches B after any A sent on its return: B heard them all by then.
    a.presence.setContacts(T, 'tab-4b', contact('sip:s@10.0.0.1:5060'));
    await until(() => b.presence.contacts(T, 'tab-4b', Date.now()).length === 1, 'B hears A');
    expect(b.presence.signedIn(T, 'tab-4', Date.now())?.residentId).toBe('r-2');
  });

  it('a sign-out through B is not undone by A writing its sign-in again', async () => {
    const { a, b, whileCut } = await cutPair(5);
    a.presence.signIn(T, 'tab-5', { residentId: 'r-1', until: Date.now() + HOUR });
    await until(() => b.presence.signedIn(T, 'tab-5', Date.now()), 'B sees r-1');
    await whileCut(() => b.presence.signOut(T, 'tab-5'));
    await until(() => !a.presence.signedIn(T, 'tab-5', Date.now()), 'A reads the sign-out', 10_000);
    expect(await signInField('tab-5')).not.toContain('r-1');
    a.presence.setContacts(T, 'tab-5b', contact('sip:s@10.0.0.1:5060'));
    await until(() => b.presence.contacts(T, 'tab-5b', Date.now()).length === 1, 'B hears A');
    expect(b.presence.signedIn(T, 'tab-5', Date.now())).toBeUndefined();
  });

  it('a forget through A meanwhile spares a registration made through B after it', async () => {
    const { a, b, whileCut } = await cutPair(6);
    a.presence.setContacts(T, 'cell-6', contact('sip:old@10.0.0.1:5060'));
    await until(() => b.presence.contacts(T, 'cell-6', Date.now()).length === 1, 'B sees A’s');
    await whileCut(async () => {
      const forgotAt = Date.now();
      a.presence.forget(T, 'cell-6');
      await until(() => Date.now() > forgotAt, 'a later millisecond');
      b.presence.setContacts(T, 'cell-6', contact('sip:new@10.0.0.9:5060'));
    });
    await until(
      () => a.presence.contacts(T, 'cell-6', Date.now()).length === 1,
      'A reads B’s registration',
      10_000,
    );
    expect(a.presence.contacts(T, 'cell-6', Date.now())[0]?.uri).toBe('sip:new@10.0.0.9:5060');
    a.presence.setContacts(T, 'cell-6b', contact('sip:s@10.0.0.1:5060'));
    await until(() => b.presence.contacts(T, 'cell-6b', Date.now()).length === 1, 'B hears A');
    expect(b.presence.contacts(T, 'cell-6', Date.now()).map((c) => c.uri)).toEqual([
      'sip:new@10.0.0.9:5060',
    ]);
  });

  it('a read answered after a message heard keeps what the message told', async () => {
    const { a, b, way, whileCut } = await cutPair(7);
    b.presence.setContacts(T, 'cell-7', contact('sip:b@10.0.0.9:5060'));
    await until(() => a.presence.contacts(T, 'cell-7', Date.now()).length === 1, 'A sees B’s');
    // Only A's held read tells it of this device: when A has it, the read was applied.
    const marker = `${PREFIX}device:${T}:marker-7`;
    const later = String(Date.now() + HOUR);
    await redis.cli('HSET', marker, 'contacts:gw-z', `[{"uri":"sip:z@h","expiresAt":${later}}]`);
    await redis.cli('ZADD', `${PREFIX}device-index`, later, marker);
    way.holdReplies('ZREMRANGEBYSCORE');
    await whileCut(() => undefined);
    await until(() => way.held() > 0, 'A’s read answered, the reply held', 10_000);
    // A hears again (its subscriber is back), then B's phone unregisters.
    b.presence.setContacts(T, 'cell-7b', contact('sip:b2@10.0.0.9:5060'));
    await until(() => a.presence.contacts(T, 'cell-7b', Date.now()).length === 1, 'A hears B');
    b.presence.setContacts(T, 'cell-7', []);
    await until(() => a.presence.contacts(T, 'cell-7', Date.now()).length === 0, 'A hears it');
    way.release();
    await until(() => a.presence.contacts(T, 'marker-7', Date.now()).length === 1, 'A’s read');
    expect(a.presence.contacts(T, 'cell-7', Date.now())).toEqual([]);
  });

  it('a forget through B is not undone by A writing its sign-in again', async () => {
    const { a, b, whileCut } = await cutPair(8);
    a.presence.signIn(T, 'tab-8', { residentId: 'r-1', until: Date.now() + HOUR });
    await until(() => b.presence.signedIn(T, 'tab-8', Date.now()), 'B sees r-1');
    await whileCut(() => b.presence.forget(T, 'tab-8'));
    await until(() => !a.presence.signedIn(T, 'tab-8', Date.now()), 'A reads the forget', 10_000);
    expect(await signInField('tab-8')).not.toContain('r-1');
    a.presence.setContacts(T, 'tab-8b', contact('sip:s@10.0.0.1:5060'));
    await until(() => b.presence.contacts(T, 'tab-8b', Date.now()).length === 1, 'B hears A');
    expect(b.presence.signedIn(T, 'tab-8', Date.now())).toBeUndefined();
  });
});
