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
 */
import { startRedis, until, type RedisServer } from '@parley/testkit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisDevicePresence } from '../../src/cluster/device-sync.js';
import { ClusterMetrics } from '../../src/cluster/metrics.js';
import { RedisLink } from '../../src/cluster/redis-link.js';

const PREFIX = 'device-resync-test:';
const T = 'acme';
/** Far longer than the test: only the writing anew ends them on B in time. */
const HOUR = 3_600_000;
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

async function gateway(instanceId: string) {
  const link = new RedisLink(
    { url: redis.url, keyPrefix: PREFIX, commandTimeoutMs: 500, connectTimeoutMs: 2000 },
    { logger: pino({ level: 'silent' }), metrics: new ClusterMetrics(new Registry()) },
  );
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
      async () => (await redis.cli('EXISTS', `${PREFIX}device:${T}:cell-3`)).startsWith('0'),
      'the hash gone',
    );
  });
});
