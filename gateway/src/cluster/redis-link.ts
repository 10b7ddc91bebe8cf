import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/index.js';
import type { ClusterMetrics } from './metrics.js';

/**
 * A MULTI's or a pipeline's replies, or the first command error in them:
 * `exec()` resolves even when a command failed inside (a script's write
 * refused), and a write that did not land must fail its `run`.
 */
export function replies<T>(results: [Error | null, T][] | null): T[] {
  if (!results) throw new Error('transaction discarded');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

let ioredis: typeof IORedis | undefined;
/** ioredis, loaded with the first link: a gateway without `shared.redis` never holds it. */
function redisClass(): typeof Redis {
  ioredis ??= createRequire(import.meta.url)('ioredis') as typeof IORedis;
  return ioredis.Redis;
}

export interface RedisLinkOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

export interface RedisLinkEvents {
  up: [];
  down: [];
}

/**
 * The gateway's connection to the shared Redis, made so that Redis being slow
 * or gone never holds a call: no offline queue (a command while disconnected
 * fails at once), a timeout on every command, reconnection in the background
 * with back-off. `run()` turns a failure into the caller's fallback, counted
 * and logged once per outage. Each channel listened on gets its own
 * connection (`listen()`).
 */
export class RedisLink extends EventEmitter<RedisLinkEvents> {
  readonly client: Redis;
  readonly prefix: string;
  readonly #options: RedisLinkOptions;
  readonly #logger: Logger;
  /** The link's metrics, also the stores' retries' (`retries.ts`). */
  readonly metrics: ClusterMetrics;
  readonly #subscribers: Redis[] = [];
  #up = false;
  #warned = false;
  #closed = false;

  constructor(options: RedisLinkOptions, deps: { logger: Logger; metrics: ClusterMetrics }) {
    super();
    // Every store listens for `up`, and each store's retries (`retries.ts`): more than Node's 10.
    this.setMaxListeners(0);
    this.#options = options;
    this.prefix = options.keyPrefix;
    this.#logger = deps.logger.child({ module: 'redis' });
    this.metrics = deps.metrics;
    this.metrics.redisUp.set(0);
    this.client = this.#connect('commands');
    this.client.on('ready', () => this.#setUp(true));
    this.client.on('close', () => this.#setUp(false));
    this.client.on('end', () => this.#setUp(false));
  }

  /** Resolves when first connected, or after the connect timeout (still down: the caller goes on). */
  async start(): Promise<void> {
    if (this.#up) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.#options.connectTimeoutMs);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.once('up', done);
    });
    if (!this.#up)
      this.#logger.warn('Redis is not reachable: serving with local state until it is');
  }

  /** The link's logger, for the stores' retries (`retries.ts`). */
  get logger(): Logger {
    return this.#logger;
  }

  get up(): boolean {
    return this.#up;
  }

  key(...parts: string[]): string {
    return `${this.prefix}${parts.join(':')}`;
  }

  /**
   * Runs a Redis operation; on failure (down, timeout, error) counts it, logs
   * the first of an outage, and resolves the fallback instead.
   */
  async run<T>(op: string, fn: (client: Redis) => Promise<T>, fallback: T): Promise<T> {
    this.metrics.redisOps.inc({ op });
    try {
      return await fn(this.client);
    } catch (error) {
      this.metrics.redisErrors.inc({ op });
      if (!this.#warned) {
        this.#warned = true;
        this.#logger.warn({ err: error, op }, 'Redis operation failed: going on without it');
      }
      return fallback;
    }
  }

  /**
   * Listens on `channel` over a connection of its own (one in subscribe mode
   * runs no other command). Resolves once the first SUBSCRIBE is answered or
   * has failed (logged): Redis down at start holds no one up.
   *
   * The SUBSCRIBE is sent again on every (re)connection, here rather than by
   * ioredis's `autoResubscribe`: that one sends it with no rejection handler, so
   * a connection closed before its answer (a gateway stopping just after Redis
   * came back) ended in an unhandled rejection, which ends Node; and it only
   * re-sends what once succeeded, so a gateway started while Redis was down
   * never heard the channel once it was up.
   */
  listen(
    channel: string,
    onMessage: (text: string) => void,
    what: string,
    /** After each SUBSCRIBE answered: what was published while unsubscribed is missed, read it. */
    onSubscribed?: () => void,
  ): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const sub = this.#connect('subscriber');
    this.#subscribers.push(sub);
    sub.on('message', (from: string, text: string) => {
      if (from === channel) onMessage(text);
    });
    let pending: Promise<void> | undefined;
    const subscribe = (): Promise<void> =>
      (pending ??= sub
        .subscribe(channel)
        .then(
          () => onSubscribed?.(),
          (error: unknown) => {
            if (!this.#closed)
              this.#logger.warn({ err: error, channel }, `could not subscribe to ${what}`);
          },
        )
        .finally(() => {
          pending = undefined;
        }));
    // The first ready finds the SUBSCRIBE below still pending in the offline queue.
    sub.on('ready', () => void subscribe());
    return subscribe();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of [this.client, ...this.#subscribers]) c.disconnect(false);
    this.#setUp(false);
  }

  #connect(name: string): Redis {
    const o = this.#options;
    const client = new (redisClass())(o.url, {
      connectionName: `parley-${name}`,
      enableOfflineQueue: name === 'subscriber',
      // Channels are subscribed again by `listen()`, with their failures handled.
      autoResubscribe: false,
      commandTimeout: o.commandTimeoutMs,
      connectTimeout: o.connectTimeoutMs,
      maxRetriesPerRequest: 0,
      // Back in the background, at most every 2 s: Redis coming back is noticed within that.
      retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
      lazyConnect: false,
    });
    // Errors are reported through `run` and the up/down state; ioredis also emits them here.
    client.on('error', () => undefined);
    return client;
  }

  #setUp(up: boolean): void {
    if (this.#up === up) return;
    this.#up = up;
    this.metrics.redisUp.set(up ? 1 : 0);
    if (up) {
      if (this.#warned) this.#logger.info('Redis is reachable again');
      this.#warned = false;
      this.emit('up');
    } else {
      if (!this.#closed) this.#logger.warn('Redis connection lost');
      this.emit('down');
    }
  }
}
