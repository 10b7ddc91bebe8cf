import type { RedisLink } from './redis-link.js';

/**
 * This gateway's lease in the shared Redis: the key `gateway:<instance>`,
 * written at start and every `heartbeatSeconds` to expire `leaseSeconds` later
 * (Redis's clock), deleted at a clean stop. A gateway whose key is gone has
 * stopped answering (a crash, a kill, or cut from Redis longer than the lease):
 * the others may close its calls (`lost-gateways.ts`).
 */
export class GatewayPresence {
  /** This gateway's instance id (whose lease this is). */
  readonly instanceId: string;
  readonly #redis: RedisLink;
  readonly #key: string;
  readonly #leaseMs: number;
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(
    redis: RedisLink,
    options: { instanceId: string; heartbeatSeconds: number; leaseSeconds: number },
  ) {
    this.#redis = redis;
    this.instanceId = options.instanceId;
    this.#key = redis.key('gateway', encodeURIComponent(options.instanceId));
    this.#leaseMs = options.leaseSeconds * 1000;
    this.#timer = setInterval(() => void this.beat(), options.heartbeatSeconds * 1000);
    this.#timer.unref();
  }

  /** Writes the lease now (at start, before any call, and on every heartbeat). */
  async beat(): Promise<void> {
    if (this.#closed) return;
    await this.#redis.run(
      'presence_beat',
      (r) => r.set(this.#key, String(Date.now()), 'PX', this.#leaseMs),
      null,
    );
  }

  /**
   * Whether `instanceId` holds its lease. When Redis cannot say (down, timeout)
   * the answer is yes: a gateway is never taken for dead on no evidence.
   */
  async alive(instanceId: string): Promise<boolean> {
    const key = this.#redis.key('gateway', encodeURIComponent(instanceId));
    if (!this.#redis.up) return true;
    return (await this.#redis.run('presence_check', (r) => r.exists(key), 1)) === 1;
  }

  /** Stops the heartbeat and gives the lease up (a clean stop closed its own calls). Safe twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#redis.run('presence_end', (r) => r.del(this.#key), 0);
  }
}
