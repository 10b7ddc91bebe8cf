/**
 * The gateway's Redis connection (cluster/redis-link.ts) on a real
 * redis-server: a channel listened on is subscribed on every connection,
 * whether Redis was down when the gateway started or went away later, and
 * closing the link then leaves nothing pending (ioredis's own re-subscription
 * left an unhandled rejection behind in that case).
 */
import { startRedis, until, type RedisServer } from '@parley/testkit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterMetrics } from '../../src/cluster/metrics.js';
import { RedisLink } from '../../src/cluster/redis-link.js';

let redis: RedisServer;
const links: RedisLink[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
});
afterAll(async () => {
  await redis?.stop();
});

function link(): RedisLink {
  const l = new RedisLink(
    { url: redis.url, keyPrefix: 'link-test:', commandTimeoutMs: 500, connectTimeoutMs: 500 },
    { logger: pino({ level: 'silent' }), metrics: new ClusterMetrics(new Registry()) },
  );
  links.push(l);
  return l;
}

/** Publishes `text` on `channel` until `heard` has it: a message sent before the SUBSCRIBE landed is gone. */
async function heardOnce(channel: string, text: string, heard: string[]): Promise<void> {
  await until(async () => {
    if (heard.includes(text)) return true;
    await redis.cli('PUBLISH', channel, text);
    return undefined;
  }, `"${text}" heard on ${channel}`);
}

describe('a channel listened on through the link', () => {
  it('is subscribed once Redis is up when it was down at start', async () => {
    await redis.kill();
    const l = link();
    await l.start();
    expect(l.up).toBe(false);
    const heard: string[] = [];
    // Resolves with the first SUBSCRIBE failed (logged): nobody waits on Redis.
    await l.listen('link-test:late', (text) => heard.push(text), 'test notices');
    await redis.restart();
    await heardOnce('link-test:late', 'after start', heard);
  });

  it('is subscribed again after Redis restarts, and the link closes with nothing left pending', async () => {
    const l = link();
    await l.start();
    const heard: string[] = [];
    await l.listen('link-test:again', (text) => heard.push(text), 'test notices');
    await heardOnce('link-test:again', 'before', heard);
    await redis.kill();
    await redis.restart();
    await heardOnce('link-test:again', 'after', heard);
    // Closed while it reconnects: whatever SUBSCRIBE is unanswered is rejected and handled
    // (vitest fails the file on an unhandled rejection).
    await redis.kill();
    await redis.restart();
    await l.close();
  });
});
