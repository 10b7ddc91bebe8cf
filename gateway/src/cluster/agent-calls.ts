import { z } from 'zod';
import type { AgentDirectory } from '../agents/index.js';
import type { Logger } from '../observability/index.js';
import { replies, type RedisLink } from './redis-link.js';
import { WriteRetries } from './retries.js';
import { WrittenMarks } from './written-marks.js';

/**
 * Agents' calls shown on every gateway: an agent ringing or talking through
 * gateway A shows `ringing` or `busy` on B too (the desk's presence, the API's
 * agents, and the routing that picks from them). What is shown only: an agent
 * is never offered two calls at once because of the slot claims
 * (`slot-claims.ts`), which hold even while this news is on its way.
 *
 * Each gateway writes its own counts of an agent's calls into the agent's hash
 * (`agent-calls:<id>`, field `<instance>`: ringing, answered, and `until`, epoch
 * ms) and publishes them on the `agent-calls` channel; the others count them
 * in the agent's presence until `until`. While an agent has calls here the
 * counts are written again every `heartbeatSeconds`, each time valid for
 * `leaseSeconds`: the calls of a gateway that died (or was cut from Redis)
 * lapse on the others within the lease, and the hash expires a lease after
 * its last write. Changes of one moment (a ring stopped as the call is
 * answered) go out together. On start a gateway reads every agent's hash
 * and writes its own anew (a previous run's cleared). When Redis comes back
 * it first writes every agent's counts anew, none included (a call that
 * ended while Redis was away was told to no one), then reads the hashes: a
 * gateway's field gone (its calls ended while this one was cut off) clears
 * its calls here, unless a message told them since the read was sent.
 */
const countsSchema = z.object({
  ringing: z.number().int().min(0),
  activeCalls: z.number().int().min(0),
});
const fieldSchema = countsSchema.extend({ until: z.number() });
const messageSchema = z.object({
  instance: z.string(),
  until: z.number(),
  agents: z.array(countsSchema.extend({ agentId: z.string() })),
});
type AgentCallsMessage = z.infer<typeof messageSchema>;

export class RedisAgentCalls {
  readonly #redis: RedisLink;
  readonly #agents: AgentDirectory;
  readonly #instance: string;
  readonly #log: Logger;
  readonly #channel: string;
  readonly #leaseMs: number;
  readonly #timer: NodeJS.Timeout;
  /** Agents whose calls here changed since the last write (written together, at the end of the tick). */
  readonly #dirty = new Set<string>();
  /** Agents this gateway wrote counts for, not yet written back to none. */
  readonly #told = new Set<string>();
  readonly #onLocal = (agentId: string) => this.#changed(agentId);
  readonly #onUp = () => void this.#resync();
  /** Agents whose write failed (Redis up or down): their counts written again until they land. */
  readonly #retries: WriteRetries<string>;
  /** Whose fields are all written in this Redis: only their absence clears their calls here. */
  readonly #marks: WrittenMarks;
  /** This gateway's counts are not all in Redis yet (a write failed): marked once they are. */
  #unmarked = true;
  #started = false;
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
    heartbeatSeconds: number;
    leaseSeconds: number;
  }) {
    this.#redis = deps.redis;
    this.#agents = deps.agents;
    this.#instance = deps.instanceId;
    this.#log = deps.logger.child({ module: 'agent-calls' });
    this.#channel = this.#redis.key('agent-calls');
    this.#leaseMs = deps.leaseSeconds * 1000;
    this.#agents.on('localCalls', this.#onLocal);
    this.#redis.on('up', this.#onUp);
    this.#timer = setInterval(() => void this.#renew(), deps.heartbeatSeconds * 1000);
    this.#timer.unref();
    this.#retries = new WriteRetries(this.#redis, 'agent_calls', async (ids) => {
      await this.#write(ids);
      if (this.#unmarked) await this.#mark();
    });
    this.#marks = new WrittenMarks(this.#redis, {
      store: 'agent-calls',
      instanceId: this.#instance,
      channel: this.#channel,
    });
  }

  /** Subscribes, then reads the others' calls and clears what this instance left of a previous run. */
  async start(): Promise<void> {
    await this.#redis.listen(
      this.#channel,
      (text) => this.#received(text),
      'agent calls',
      () => void this.#resync(),
    );
    await this.#resync(true);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#agents.off('localCalls', this.#onLocal);
    this.#redis.off('up', this.#onUp);
    this.#retries.close();
  }

  /**
   * At start: reads every agent's hash (one pipeline), the other gateways'
   * calls, then writes this gateway's own anew (a previous run of this
   * instance may have left counts of calls it no longer has). When Redis is
   * back: writes every agent's counts first (a Redis that restarted lost
   * them; a call that ended meanwhile was told to no one), then reads.
   */
  async #resync(first = false, options: { readOnly?: boolean } = {}): Promise<void> {
    if (this.#closed || (!first && !this.#started)) return;
    this.#started = true;
    const ids = this.#agents.list().map((a) => a.id);
    if (ids.length === 0) return;
    if (!first && !options.readOnly) {
      await this.#write(ids);
      await this.#mark();
    }
    const sentAt = this.#heard;
    const whole = (await this.#marks.whole()) ?? new Set<string>();
    const hashes = await this.#redis.run(
      'agent_calls_load',
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
    const own: string[] = [];
    hashes.forEach((hash, i) => {
      const agentId = ids[i];
      if (agentId === undefined || hash === undefined) return;
      // Unless told since the read was sent, or not written in this Redis yet (`written-marks.ts`).
      for (const instance of this.#agents.remoteOrigins(agentId).calls)
        if (
          whole.has(instance) &&
          !(instance in hash) &&
          (this.#heardAt.get(`${agentId}\n${instance}`) ?? 0) <= sentAt
        )
          this.#agents.clearRemoteCalls(agentId, instance);
      for (const [instance, value] of Object.entries(hash)) {
        if (instance === this.#instance) {
          own.push(agentId);
          continue;
        }
        const parsed = fieldSchema.safeParse(safeJson(value));
        if (parsed.success) this.#agents.setRemoteCalls(agentId, instance, parsed.data);
        else this.#log.warn({ agentId, instance }, 'unreadable agent calls ignored');
      }
    });
    // Redis away: the next `up` tries again. Back: this gateway's counts were written first.
    if (hashes.length !== ids.length || !first) return;
    for (const agentId of own) this.#told.add(agentId);
    for (const agentId of ids) if (this.#hasCalls(agentId)) this.#told.add(agentId);
    await this.#write([...this.#told]);
    await this.#mark();
  }

  /** Marks this gateway's counts whole in Redis once no write of them waits for a retry. */
  async #mark(): Promise<void> {
    this.#unmarked = true;
    if (this.#retries.pending.size > 0 || this.#closed) return;
    if (await this.#marks.mark()) this.#unmarked = false;
  }

  #changed(agentId: string): void {
    if (this.#closed) return;
    if (this.#dirty.size === 0)
      queueMicrotask(() => {
        const ids = [...this.#dirty];
        this.#dirty.clear();
        void this.#write(ids);
      });
    this.#dirty.add(agentId);
  }

  /** Every heartbeat: the agents with calls here, valid for another lease. */
  async #renew(): Promise<void> {
    const ids = [...this.#told].filter((id) => this.#hasCalls(id));
    if (ids.length > 0 && this.#redis.up) await this.#write(ids);
  }

  /** One transaction: each agent's field (removed at no calls), then one message for them all. */
  async #write(agentIds: readonly string[]): Promise<void> {
    if (agentIds.length === 0 || this.#closed) return;
    const until = Date.now() + this.#leaseMs;
    const message: AgentCallsMessage = { instance: this.#instance, until, agents: [] };
    for (const agentId of agentIds) {
      const state = this.#agents.localState(agentId);
      const counts = { ringing: state?.ringing ?? 0, activeCalls: state?.activeCalls ?? 0 };
      message.agents.push({ agentId, ...counts });
      if (counts.ringing + counts.activeCalls > 0) this.#told.add(agentId);
      else this.#told.delete(agentId);
    }
    const done = await this.#redis.run(
      'agent_calls',
      (r) => {
        const m = r.multi();
        for (const { agentId, ringing, activeCalls } of message.agents) {
          const key = this.#key(agentId);
          if (ringing + activeCalls > 0) {
            m.hset(key, this.#instance, JSON.stringify({ ringing, activeCalls, until }));
            // Every writer pushes the hash's end a lease on: it outlives every field still valid.
            m.pexpire(key, this.#leaseMs);
          } else m.hdel(key, this.#instance);
        }
        m.publish(this.#channel, JSON.stringify(message));
        return m.exec().then(replies);
      },
      null,
    );
    for (const agentId of agentIds)
      if (done === null) this.#retries.failed(agentId);
      else this.#retries.written(agentId);
  }

  #received(text: string): void {
    const value = safeJson(text);
    const written = WrittenMarks.noticeFrom(value);
    // Another gateway's counts are whole now: a read may clear what it no longer has.
    if (written !== undefined) {
      if (written !== this.#instance && this.#started) void this.#resync(false, { readOnly: true });
      return;
    }
    const parsed = messageSchema.safeParse(value);
    if (!parsed.success) {
      this.#log.warn({ err: parsed.error }, 'unreadable agent calls message ignored');
      return;
    }
    const { instance, until, agents } = parsed.data;
    if (instance === this.#instance) return;
    for (const { agentId, ringing, activeCalls } of agents) {
      this.#heardAt.set(`${agentId}\n${instance}`, ++this.#heard);
      this.#agents.setRemoteCalls(agentId, instance, { ringing, activeCalls, until });
    }
  }

  #hasCalls(agentId: string): boolean {
    const state = this.#agents.localState(agentId);
    return state !== undefined && state.ringing + state.activeCalls > 0;
  }

  #key(agentId: string): string {
    return this.#redis.key('agent-calls', encodeURIComponent(agentId));
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
