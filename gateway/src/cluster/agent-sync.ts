import { z } from 'zod';
import type { AgentContact, AgentDirectory } from '../agents/index.js';
import type { Logger } from '../observability/index.js';
import { replies, type RedisLink } from './redis-link.js';
import { WriteRetries } from './retries.js';
import { WrittenMarks } from './written-marks.js';

/**
 * Agents' registrations, availability and wrap-up shared between gateways:
 * an agent whose phone registered through gateway A can be rung by gateway B,
 * "away" chosen on a desk served by A holds on B, and an agent in wrap-up
 * after a call on A is offered nothing by B either until it ends (B started
 * during the wrap-up too: it reads it from the hash).
 *
 * Each gateway writes what it knows first-hand into the agent's hash
 * (`agent:<id>`: fields `contacts:<instance>`, `wrapUp:<instance>` while a
 * wrap-up it gave lasts, and `availability`), and
 * publishes the same on the `agents` channel; the others apply it to their
 * AgentDirectory. On start a gateway reads every agent's hash; when Redis
 * comes back it writes (and publishes) its own state anew, which changed
 * unheard while Redis was away, then reads the hashes again. A read replaces
 * what the others told: a gateway's field gone from the hash (a phone that
 * unregistered while this one was cut off) removes its contacts here. Any
 * change is then either in the hash this gateway reads once subscribed again,
 * or in a message it hears after (`RedisLink.listen`). Contacts carry their
 * expiry, so a dead gateway's registrations lapse with the phone's registration. A remote contact has no transport flow
 * here: the gateway sends to its URI (a phone behind NAT is reached through the
 * SIP edge, docs/scaling.md).
 */
const contactSchema = z.object({ uri: z.string(), expiresAt: z.number() });
const messageSchema = z.object({
  instance: z.string(),
  agentId: z.string(),
  contacts: z.array(contactSchema),
  availability: z.enum(['available', 'away']),
  availabilityAt: z.number(),
  /** The end of a wrap-up the sender gave the agent (epoch ms; the gateways' clocks agree). */
  wrapUpUntil: z.number().optional(),
});
type AgentMessage = z.infer<typeof messageSchema>;
/**
 * Writes the agent's availability unless the hash holds a later choice: a
 * gateway that missed one (Redis was away, or its message is still on the
 * way) must not put an older choice back over it.
 */
const SET_AVAILABILITY = `
local current = redis.call('HGET', KEYS[1], 'availability')
if current then
  local ok, value = pcall(cjson.decode, current)
  if ok and type(value) == 'table' and tonumber(value.availabilityAt) and tonumber(value.availabilityAt) > tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('HSET', KEYS[1], 'availability', ARGV[1])
return 1`;
const availabilitySchema = messageSchema.pick({ availability: true, availabilityAt: true });
/** A wrap-up in the agent's hash: until when, and when its gateway last wrote it. */
const wrapUpSchema = z.object({ until: z.number(), at: z.number() });

export class RedisAgentSync {
  readonly #redis: RedisLink;
  readonly #agents: AgentDirectory;
  readonly #instance: string;
  readonly #log: Logger;
  readonly #channel: string;
  readonly #onLocal = (agentId: string) => void this.#publish(agentId);
  readonly #onUp = () => void this.#resync();
  /** Agents whose write failed (Redis up or down): their state written again until it lands. */
  readonly #retries: WriteRetries<string>;
  /** Whose fields are all written in this Redis: only their absence removes their contacts here. */
  readonly #marks: WrittenMarks;
  /** This gateway's state is not all in Redis yet (a write failed): marked once it is. */
  #unmarked = true;
  /** The start's own read is done: from now on each reconnection reads and writes again. */
  #started = false;
  /** This gateway's own contacts were read back from the hash (or it had none there). */
  #restored = false;
  #closed = false;
  /** Counts the messages applied: a read keeps what a message told after the read was sent. */
  #heard = 0;
  /** `<agent>\n<instance>` → the value of `#heard` when its last message was applied. */
  readonly #heardAt = new Map<string, number>();

  constructor(deps: {
    redis: RedisLink;
    agents: AgentDirectory;
    instanceId: string;
    logger: Logger;
  }) {
    this.#redis = deps.redis;
    this.#agents = deps.agents;
    this.#instance = deps.instanceId;
    this.#log = deps.logger.child({ module: 'agent-sync' });
    this.#channel = this.#redis.key('agents');
    this.#agents.on('localChange', this.#onLocal);
    this.#redis.on('up', this.#onUp);
    this.#retries = new WriteRetries(this.#redis, 'agents', async (ids) => {
      await Promise.all(ids.map((id) => this.#publish(id)));
      if (this.#unmarked) await this.#mark();
    });
    this.#marks = new WrittenMarks(this.#redis, {
      store: 'agents',
      instanceId: this.#instance,
      channel: this.#channel,
    });
  }

  /** Subscribes, then reads what the other gateways wrote before this one started. */
  async start(): Promise<void> {
    await this.#redis.listen(
      this.#channel,
      (text) => this.#received(text),
      'agent changes',
      // Subscribed again after an outage: what the others published meanwhile is in their hashes.
      () => void this.#resync(),
    );
    this.#restored = await this.load({ restoreOwn: true });
    this.#started = true;
    // What this instance wrote before is its own again (or there was nothing): whole.
    if (this.#restored) await this.#mark();
  }

  /** Marks this gateway's state whole in Redis once no write of it waits for a retry. */
  async #mark(): Promise<void> {
    this.#unmarked = true;
    if (this.#retries.pending.size > 0) return;
    if (await this.#marks.mark()) this.#unmarked = false;
  }

  /**
   * Redis is back (the command connection up, or the channel subscribed
   * again: either may come first): what this gateway changed meanwhile,
   * then what the others wrote. Its writes failed while Redis was away (a
   * phone that registered or unregistered, "away" or "available" chosen on a
   * desk, a wrap-up given or ended), and a Redis that restarted lost every
   * hash: without this the others knew none of it until the agent's next
   * change here. A gateway started while Redis was away first takes back its
   * own contacts of before (else its writes would remove them).
   */
  async #resync(): Promise<void> {
    if (!this.#started || this.#closed) return;
    if (!this.#restored && (await this.load({ restoreOwn: true }))) this.#restored = true;
    await Promise.all(this.#agents.list().map((a) => this.#publish(a.id)));
    await this.#mark();
    await this.load();
  }

  /**
   * Reads every agent's hash (one pipeline): the others' contacts, the latest
   * availability. At start (`restoreOwn`) also the contacts this instance
   * wrote before it stopped: a restarted gateway (a rolling restart, a crash)
   * rings its agents' phones at once instead of waiting for each to register
   * again. They come back without their connection (a UDP phone's address
   * still reaches it) and the phone's next REGISTER replaces them. Resolves
   * to false when Redis could not be read.
   */
  async load(options: { restoreOwn?: boolean } = {}): Promise<boolean> {
    const ids = this.#agents.list().map((a) => a.id);
    if (ids.length === 0) return true;
    const sentAt = this.#heard;
    const whole = (await this.#marks.whole()) ?? new Set<string>();
    const hashes = await this.#redis.run(
      'agent_load',
      async (r) => {
        const pipeline = r.pipeline();
        for (const id of ids) pipeline.hgetall(this.#key(id));
        const results = (await pipeline.exec()) ?? [];
        return results.map(([error, value]) =>
          error ? undefined : (value as Record<string, string>),
        );
      },
      [] as (Record<string, string> | undefined)[],
    );
    hashes.forEach((hash, i) => {
      const agentId = ids[i];
      if (agentId === undefined || hash === undefined) return;
      this.#applyHash(agentId, hash, options.restoreOwn === true, sentAt);
      // The others' contacts no longer in the hash, unless told since the read was sent,
      // or their gateway has not written them in this Redis yet (`written-marks.ts`).
      for (const instance of this.#agents.remoteOrigins(agentId).contacts)
        if (
          whole.has(instance) &&
          !(`contacts:${instance}` in hash) &&
          (this.#heardAt.get(`${agentId}\n${instance}`) ?? 0) <= sentAt
        )
          this.#agents.setContacts(agentId, [], instance);
    });
    // Redis away: `run` gave the fallback.
    return hashes.length === ids.length;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#agents.off('localChange', this.#onLocal);
    this.#redis.off('up', this.#onUp);
    this.#retries.close();
  }

  async #publish(agentId: string): Promise<void> {
    const state = this.#agents.localState(agentId);
    if (!state || this.#closed) return;
    const contacts = state.contacts.map((c) => ({ uri: c.uri, expiresAt: c.expiresAt }));
    const message: AgentMessage = {
      instance: this.#instance,
      agentId,
      contacts,
      availability: state.availability,
      availabilityAt: state.availabilityAt,
      ...(state.wrapUpUntil !== undefined ? { wrapUpUntil: state.wrapUpUntil } : {}),
    };
    const key = this.#key(agentId);
    const field = `contacts:${this.#instance}`;
    const wrapUpField = `wrapUp:${this.#instance}`;
    const lastExpiry = Math.max(0, ...contacts.map((c) => c.expiresAt));
    const done = await this.#redis.run(
      'agent_publish',
      (r) => {
        const m = r.multi();
        if (contacts.length > 0) m.hset(key, field, JSON.stringify(contacts));
        else m.hdel(key, field);
        if (state.availabilityAt > 0)
          m.eval(
            SET_AVAILABILITY,
            1,
            key,
            JSON.stringify(availabilitySchema.parse(message)),
            String(state.availabilityAt),
          );
        // `at`, when it was given: a later "available" choice (in `availability`) ended it.
        if (message.wrapUpUntil !== undefined)
          m.hset(
            key,
            wrapUpField,
            JSON.stringify({ until: message.wrapUpUntil, at: state.wrapUpAt ?? Date.now() }),
          );
        else m.hdel(key, wrapUpField);
        // The hash outlives the longest registration in it (availability then starts afresh).
        // NX gives a hash its first expiry; GT only ever moves one later (GT alone never
        // sets an expiry on a key that has none, so the hash would never expire).
        if (lastExpiry > Date.now()) {
          m.pexpireat(key, lastExpiry, 'NX');
          m.pexpireat(key, lastExpiry, 'GT');
        }
        m.publish(this.#channel, JSON.stringify(message));
        return m.exec().then(replies);
      },
      null,
    );
    if (done === null) this.#retries.failed(agentId);
    else this.#retries.written(agentId);
  }

  #received(text: string): void {
    let message: AgentMessage;
    try {
      const value: unknown = JSON.parse(text);
      const written = WrittenMarks.noticeFrom(value);
      // Another gateway's state is whole now: a read may remove what it no longer has.
      if (written !== undefined) {
        if (written !== this.#instance && this.#started) void this.load();
        return;
      }
      message = messageSchema.parse(value);
    } catch (error) {
      this.#log.warn({ err: error }, 'unreadable agent change ignored');
      return;
    }
    if (message.instance === this.#instance) return;
    this.#heardAt.set(`${message.agentId}\n${message.instance}`, ++this.#heard);
    this.#agents.setContacts(message.agentId, remote(message.contacts), message.instance);
    if (message.availabilityAt > 0)
      this.#agents.setAvailability(
        message.agentId,
        message.availability,
        message.instance,
        message.availabilityAt,
      );
    if (message.wrapUpUntil !== undefined)
      this.#agents.setWrapUp(message.agentId, message.wrapUpUntil, message.instance);
  }

  /**
   * A hash read (`sentAt`: `#heard` when the read was sent). The read is a
   * pipeline, not atomic with the channel: a gateway's contacts told by a
   * message applied since it was sent are newer than the hash's (a phone
   * unregistered: its field gone, the reply still holding it), so kept.
   */
  #applyHash(
    agentId: string,
    hash: Record<string, string>,
    restoreOwn: boolean,
    sentAt: number,
  ): void {
    let chosenAt = 0;
    const wrapUps: z.infer<typeof wrapUpSchema>[] = [];
    for (const [field, value] of Object.entries(hash)) {
      try {
        if (field === 'availability') {
          const a = availabilitySchema.parse(JSON.parse(value));
          chosenAt = a.availabilityAt;
          this.#agents.setAvailability(agentId, a.availability, 'cluster', a.availabilityAt);
        } else if (field.startsWith('wrapUp:')) {
          // Its own only at start: while running, this gateway knows its wrap-ups better
          // (one the agent ended while Redis was away is still in the hash).
          if (field !== `wrapUp:${this.#instance}` || restoreOwn)
            wrapUps.push(wrapUpSchema.parse(JSON.parse(value)));
        } else if (field.startsWith('contacts:')) {
          const instance = field.slice('contacts:'.length);
          const contacts = z.array(contactSchema).parse(JSON.parse(value));
          if (instance !== this.#instance) {
            if ((this.#heardAt.get(`${agentId}\n${instance}`) ?? 0) <= sentAt)
              this.#agents.setContacts(agentId, remote(contacts), instance);
          }
          // Never over a registration this process already holds.
          else if (restoreOwn && !this.#agents.localState(agentId)?.contacts.length)
            this.#agents.setContacts(agentId, remote(contacts));
        }
      } catch (error) {
        this.#log.warn({ err: error, agentId, field }, 'unreadable agent state ignored');
      }
    }
    // A wrap-up still running that no later "available" choice ended (setWrapUp
    // ignores one already over).
    for (const wrapUp of wrapUps) {
      const latestChoice = Math.max(
        chosenAt,
        this.#agents.localState(agentId)?.availabilityAt ?? 0,
      );
      if (wrapUp.at >= latestChoice) this.#agents.setWrapUp(agentId, wrapUp.until, 'cluster');
    }
  }

  #key(agentId: string): string {
    return this.#redis.key('agent', encodeURIComponent(agentId));
  }
}

function remote(contacts: readonly { uri: string; expiresAt: number }[]): AgentContact[] {
  return contacts.map((c) => ({ uri: c.uri, expiresAt: c.expiresAt, flowId: undefined }));
}
