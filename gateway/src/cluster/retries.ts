import type { Logger } from '../observability/index.js';
import type { RedisLink } from './redis-link.js';

/** The first retry's delay; each one after waits twice as long, up to `MAX_DELAY_MS`. */
const MIN_DELAY_MS = 200;
/** The longest wait between two retries: a write that failed lands within this of Redis taking it. */
const MAX_DELAY_MS = 5_000;

/**
 * One store's writes that failed, tried again until they land. A write can
 * fail while the connection stays up (a command error such as a Redis
 * refusing writes, a reply past `commandTimeoutMs`, a failure with no
 * reconnection after it): nothing then rewrites the store at a reconnection,
 * and what the others read stays wrong for good (an agent's slot release lost
 * leaves the agent taken on every gateway). So each store marks what it failed
 * to write (`failed(item)`), and its `retry` writes those items' current state
 * again after a back-off (200 ms, doubling, at most 5 s) until Redis takes them;
 * while the link is down it waits for `up`. Nothing waits for it: a call's
 * path never awaits a retry. Counted in `parley_shared_redis_retries_total{store}`,
 * the items waiting in `parley_shared_redis_unwritten{store}`; the first failure
 * of a run of them is logged, and their landing.
 */
export class WriteRetries<T> {
  readonly #redis: RedisLink;
  readonly #store: string;
  readonly #retry: (items: T[]) => Promise<void>;
  readonly #log: Logger;
  readonly #pending = new Set<T>();
  readonly #onUp = () => void this.#flush();
  #timer: NodeJS.Timeout | undefined;
  #delayMs = MIN_DELAY_MS;
  #failing = false;
  #closed = false;

  constructor(
    redis: RedisLink,
    /** Metric label and log name: `agent_slots`, `agents`, … */
    store: string,
    /** Writes these items' state as it is now; each one that fails again calls `failed` again. */
    retry: (items: T[]) => Promise<void>,
  ) {
    this.#redis = redis;
    this.#store = store;
    this.#retry = retry;
    this.#log = redis.logger.child({ store });
    redis.on('up', this.#onUp);
  }

  /** `item`'s write failed: it is written again later. */
  failed(item: T): void {
    if (this.#closed) return;
    this.#pending.add(item);
    this.#gauge();
    if (!this.#failing) {
      this.#failing = true;
      this.#log.warn('a Redis write failed: trying it again until it lands');
    }
    this.#schedule();
  }

  /** `item` was written since (a later change of it landed): no retry needed. */
  written(item: T): void {
    if (this.#pending.delete(item)) this.#gauge();
  }

  /** The items waiting for a retry now. */
  get pending(): ReadonlySet<T> {
    return this.#pending;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#redis.off('up', this.#onUp);
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, this.#delayMs);
    this.#timer.unref();
    this.#delayMs = Math.min(this.#delayMs * 2, MAX_DELAY_MS);
  }

  async #flush(): Promise<void> {
    // Down: the `up` that ends the outage flushes (no retry burns against a closed socket).
    if (this.#closed || this.#pending.size === 0 || !this.#redis.up) return;
    const items = [...this.#pending];
    this.#pending.clear();
    this.#redis.metrics.redisRetries.inc({ store: this.#store }, items.length);
    try {
      await this.#retry(items);
    } catch (error) {
      this.#log.error({ err: error }, 'a Redis write retry failed');
      items.forEach((item) => this.#pending.add(item));
    }
    this.#gauge();
    if (this.#pending.size > 0) return this.#schedule();
    this.#delayMs = MIN_DELAY_MS;
    if (this.#failing) {
      this.#failing = false;
      this.#log.info('the Redis writes that failed have landed');
    }
  }

  #gauge(): void {
    this.#redis.metrics.redisUnwritten.set({ store: this.#store }, this.#pending.size);
  }
}
