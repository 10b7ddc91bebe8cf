import { MemoryReplayStore, type ReplayStore } from '@parley/shared/tokens';
import type { RedisLink } from './redis-link.js';

/**
 * The token replay store every gateway of a cluster shares (a jti used on one
 * is refused on all): `SET jti 1 PX ttl NX` answers whether this is the
 * first use, atomically. Each gateway also remembers its own ids in memory, so
 * while Redis is down a replay on the same gateway is still refused (a replay
 * through another gateway then is not: counted in
 * `parley_shared_redis_errors_total{op="replay"}`, said by /health).
 */
export class RedisReplayStore implements ReplayStore {
  readonly #redis: RedisLink;
  readonly #local: MemoryReplayStore;
  readonly #now: () => number;

  constructor(redis: RedisLink, now: () => number = Date.now) {
    this.#redis = redis;
    this.#now = now;
    this.#local = new MemoryReplayStore({ now });
  }

  async consume(id: string, expiresAtMs: number): Promise<boolean> {
    if (!(await this.#local.consume(id, expiresAtMs))) return false;
    const ttl = Math.max(1, expiresAtMs - this.#now());
    const answer = await this.#redis.run(
      'replay',
      (r) => r.set(this.#redis.key('jti', encodeURIComponent(id)), '1', 'PX', ttl, 'NX'),
      'OK' as const,
    );
    return answer === 'OK';
  }
}
