import { MemoryReplayStore, sameUse, type ReplayStore } from '@parley/shared/tokens';
import type { RedisLink } from './redis-link.js';

/**
 * The token replay store every gateway of a cluster shares (a jti used on one
 * is refused on all): `SET jti <use> PX ttl NX` answers whether this is the
 * first use, atomically; when it is taken, the same use (the same INVITE
 * failed over by the SIP edge) is not a replay. Each gateway also remembers its own ids in memory, so
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

  async consume(id: string, expiresAtMs: number, use?: string): Promise<boolean> {
    if (!(await this.#local.consume(id, expiresAtMs, use))) return false;
    const ttl = Math.max(1, expiresAtMs - this.#now());
    const key = this.#redis.key('jti', encodeURIComponent(id));
    // The value is when and on what it was spent (`<ms> u:<use>`, `<ms> -` without a use):
    // taken already, the same use within SAME_USE_WINDOW_MS is no replay (gateways' clocks
    // are NTP-close; the window is 32 s).
    const now = this.#now();
    const value = `${now} ${use === undefined ? '-' : `u:${use}`}`;
    return this.#redis.run(
      'replay',
      async (r) => {
        if ((await r.set(key, value, 'PX', ttl, 'NX')) === 'OK') return true;
        if (use === undefined) return false;
        const first = /^(\d+) u:(.*)$/s.exec((await r.get(key)) ?? '');
        return first !== null && sameUse({ use: first[2], at: Number(first[1]) }, use, now);
      },
      true,
    );
  }
}
