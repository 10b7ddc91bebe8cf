import { z } from 'zod';
import type { DeskFanout, DeskFanoutMessage } from '../desk/desk-fanout.js';
import type { Logger } from '../observability/index.js';
import type { RedisLink } from './redis-link.js';

/**
 * Desk events between gateways over one Redis channel (`desk`): each gateway
 * publishes its messages and reads the others'. Pub/sub, not a stream: a desk
 * frame matters while the desk is open; a gateway that was cut from Redis
 * catches up through the desk's replay when the desk reconnects. While Redis
 * is down the desks connected here see this gateway's calls only.
 */
const messageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('frame'), from: z.string(), agentId: z.string(), frame: z.string() }),
  z.object({
    kind: z.literal('command'),
    from: z.string(),
    to: z.string(),
    agentId: z.string(),
    frame: z.string(),
  }),
  z.object({
    kind: z.literal('replay-request'),
    from: z.string(),
    agentId: z.string(),
    socket: z.string(),
  }),
  z.object({
    kind: z.literal('replay'),
    from: z.string(),
    to: z.string(),
    agentId: z.string(),
    socket: z.string(),
    frames: z.array(z.string()),
  }),
]);

export class RedisDeskFanout implements DeskFanout {
  readonly instanceId: string;
  readonly #redis: RedisLink;
  readonly #channel: string;
  readonly #log: Logger;
  readonly #listeners: ((message: DeskFanoutMessage) => void)[] = [];

  constructor(deps: { redis: RedisLink; instanceId: string; logger: Logger }) {
    this.#redis = deps.redis;
    this.instanceId = deps.instanceId;
    this.#log = deps.logger.child({ module: 'desk-fanout' });
    this.#channel = this.#redis.key('desk');
  }

  async start(): Promise<void> {
    await this.#redis.listen(this.#channel, (text) => this.#received(text), 'desk events');
  }

  publish(message: DeskFanoutMessage): void {
    void this.#redis.run(
      `desk_${message.kind.replace('-', '_')}`,
      (r) => r.publish(this.#channel, JSON.stringify(message)),
      0,
    );
  }

  onMessage(listener: (message: DeskFanoutMessage) => void): void {
    this.#listeners.push(listener);
  }

  #received(text: string): void {
    let message: DeskFanoutMessage;
    try {
      message = messageSchema.parse(JSON.parse(text));
    } catch (error) {
      this.#log.warn({ err: error }, 'unreadable desk event ignored');
      return;
    }
    if (message.from === this.instanceId) return;
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch (error) {
        this.#log.error(
          { err: error, kind: message.kind },
          'desk event from another gateway failed',
        );
      }
    }
  }
}
