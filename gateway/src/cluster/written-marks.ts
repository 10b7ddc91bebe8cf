import { z } from 'zod';
import { replies, type RedisLink } from './redis-link.js';

/**
 * Whose state in Redis is whole: which gateways have written all they own of
 * a store into the Redis that runs now. A gateway reading the others' hashes
 * takes a gateway's field gone for a removal (a phone unregistered, a call
 * ended while this one was cut off) only when that gateway's mark is there;
 * otherwise the field may simply not be written yet, and removing what it
 * told would be wrong. A Redis restarted empty lost every field: the first
 * gateway back used to clear every other's contacts and calls until each
 * wrote its own again (seconds; for ever for one that never came back, until
 * their expiry, which is what a killed gateway's fields get anyway).
 *
 * The mark is the hash `written:<store>`, field the instance, value the
 * `run_id` of the Redis it was written to (`INFO server`): a Redis restarted
 * from a snapshot (or a replica promoted) has another run id, so a mark
 * carried over in its data, written before fields it lacks, does not count.
 * A gateway marks after its rewrite landed, then publishes a notice on the
 * store's channel (`notice()`): a gateway whose read found no mark either
 * hears it and reads again, or read after the mark was written.
 */
export class WrittenMarks {
  readonly #redis: RedisLink;
  readonly #key: string;
  readonly #instance: string;
  readonly #channel: string;

  constructor(redis: RedisLink, options: { store: string; instanceId: string; channel: string }) {
    this.#redis = redis;
    this.#key = redis.key('written', options.store);
    this.#instance = options.instanceId;
    this.#channel = options.channel;
  }

  /**
   * This gateway's state is all in Redis: marks it, and tells the others on
   * the store's channel (`isNotice` recognises it). Resolves to false when it
   * could not be written.
   */
  mark(): Promise<boolean> {
    return this.#redis.run(
      'written_mark',
      async (r) => {
        const runId = parseRunId(await r.info('server'));
        const m = r.multi().hset(this.#key, this.#instance, runId);
        replies(await m.publish(this.#channel, this.notice()).exec());
        return true;
      },
      false,
    );
  }

  /** The instances whose mark is of the Redis running now (undefined: Redis could not be read). */
  async whole(): Promise<ReadonlySet<string> | undefined> {
    return this.#redis.run(
      'written_read',
      async (r) => {
        const [info, marks] = await Promise.all([r.info('server'), r.hgetall(this.#key)]);
        const runId = parseRunId(info);
        return new Set(
          Object.entries(marks)
            .filter(([, value]) => value === runId)
            .map(([instance]) => instance),
        );
      },
      undefined,
    );
  }

  /** The notice published after a mark. */
  notice(): string {
    return JSON.stringify({ instance: this.#instance, written: true });
  }

  /** A notice of another gateway's mark, and whose, or undefined for any other message. */
  static noticeFrom(message: unknown): string | undefined {
    const parsed = noticeSchema.safeParse(message);
    return parsed.success ? parsed.data.instance : undefined;
  }
}

const noticeSchema = z.object({ instance: z.string(), written: z.literal(true) });

function parseRunId(info: string): string {
  const runId = /^run_id:(\w+)/m.exec(info)?.[1];
  if (!runId) throw new Error('INFO server has no run_id');
  return runId;
}
