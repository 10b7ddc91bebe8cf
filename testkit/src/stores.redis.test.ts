import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from './redis.js';

describe('startRedis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('stores a key, and starts empty again after a kill and a restart on the same port', async () => {
    expect((await redis.cli('SET', 'k', 'v')).trim()).toBe('OK');
    expect((await redis.cli('GET', 'k')).trim()).toBe('v');
    await redis.kill();
    expect(redis.process.running).toBe(false);
    await redis.restart();
    expect((await redis.cli('EXISTS', 'k')).trim()).toBe('0');
  });
});
