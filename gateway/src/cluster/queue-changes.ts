import { z } from 'zod';
import type { Logger } from '../observability/index.js';
import type { QueueChanges } from '../queues/index.js';
import type { RedisLink } from './redis-link.js';
import { WriteRetries } from './retries.js';

const messageSchema = z.object({ from: z.string(), queue: z.string() });

/**
 * "Queue X changed" between gateways, over one Redis channel (`queues`): a
 * gateway that added, removed, declined or offered a caller, or saw an agent
 * come free, publishes the queue's name; the others' queue services look at
 * the queue again (offer their own callers in the cluster's order, give their
 * callers and desks the new positions). Pub/sub, not a stream: a notice
 * carries no state (the queue state in Redis is the truth), and a gateway
 * that may have missed one while cut from Redis looks again at each of its
 * queues as soon as it hears the channel again (an agent freed on another
 * gateway meanwhile is offered to the callers waiting here then, not at the
 * next change).
 * A notice whose PUBLISH failed (a reply past the timeout, Redis away) is
 * published again until it lands (`retries.ts`): one more look is harmless,
 * one missed leaves a caller waiting for the next change.
 * `announce` is for changes this gateway found in the shared state itself
 * (a lost gateway's callers swept): this gateway's listeners hear it too.
 */
export class RedisQueueChanges implements QueueChanges {
  readonly #redis: RedisLink;
  readonly #instance: string;
  readonly #channel: string;
  readonly #log: Logger;
  readonly #listeners = new Set<(queue: string) => void>();
  readonly #queues: readonly string[];
  readonly #retries: WriteRetries<string>;

  constructor(deps: {
    redis: RedisLink;
    instanceId: string;
    logger: Logger;
    /** This gateway's queues: each looked at again when the channel is heard again. */
    queues?: readonly string[];
  }) {
    this.#redis = deps.redis;
    this.#queues = deps.queues ?? [];
    this.#instance = deps.instanceId;
    this.#log = deps.logger.child({ module: 'queue-changes' });
    this.#channel = this.#redis.key('queues');
    this.#retries = new WriteRetries(this.#redis, 'queue_notices', async (queues) => {
      await Promise.all(queues.map((queue) => this.#publish(queue)));
    });
  }

  async start(): Promise<void> {
    await this.#redis.listen(
      this.#channel,
      (text) => this.#received(text),
      'queue changes',
      () => this.#queues.forEach((queue) => this.#deliver(queue)),
    );
  }

  publish(queue: string): void {
    void this.#publish(queue);
  }

  close(): void {
    this.#retries.close();
  }

  async #publish(queue: string): Promise<void> {
    const message = JSON.stringify({ from: this.#instance, queue });
    const sent = await this.#redis.run(
      'queue_notice',
      (r) => r.publish(this.#channel, message),
      -1,
    );
    if (sent === -1) this.#retries.failed(queue);
    else this.#retries.written(queue);
  }

  /** Tells the other gateways and this one's listeners. */
  announce(queue: string): void {
    this.publish(queue);
    this.#deliver(queue);
  }

  subscribe(listener: (queue: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #received(text: string): void {
    let message: z.infer<typeof messageSchema>;
    try {
      message = messageSchema.parse(JSON.parse(text));
    } catch (error) {
      this.#log.warn({ err: error }, 'unreadable queue notice ignored');
      return;
    }
    if (message.from !== this.#instance) this.#deliver(message.queue);
  }

  #deliver(queue: string): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(queue);
      } catch (error) {
        this.#log.error({ err: error, queue }, 'a queue change listener failed');
      }
    }
  }
}
