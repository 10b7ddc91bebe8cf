import type { AgentLocks } from '../agents/index.js';
import type { RedisLink } from './redis-link.js';

/**
 * Claims on agents' call slots in Redis: one sorted set per agent
 * (`agent-slots:<id>`), members the legs' holders, scores when each claim
 * lapses (Redis's own clock, so gateways' clocks do not matter). A claim is
 * one script: drop lapsed claims, count, add if under `maxCalls`. Answered
 * legs are renewed every heartbeat for `leaseSeconds`, so a killed gateway's
 * slots come free by then.
 *
 * While Redis is down a claim is granted (counted as an error): a call then
 * rings as it would on a single gateway (whose own counts still hold) rather
 * than not at all.
 */
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

/** Renews held claims: `ZADD XX` (only those still there) for `ttl` from now. */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[i - 1], 'XX', now + ttl, ARGV[i])
  if redis.call('PTTL', KEYS[i - 1]) < ttl then redis.call('PEXPIRE', KEYS[i - 1], ttl) end
end
return 1
`;

export class RedisAgentLocks implements AgentLocks {
  readonly #redis: RedisLink;
  readonly #instance: string;
  readonly #holdMs: number;
  /** Answered legs' claims: holder → agent id. */
  readonly #held = new Map<string, string>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    redis: RedisLink,
    options: { instanceId: string; heartbeatSeconds: number; leaseSeconds: number },
  ) {
    this.#redis = redis;
    this.#instance = options.instanceId;
    this.#holdMs = options.leaseSeconds * 1000;
    this.#timer = setInterval(() => void this.#renew(), options.heartbeatSeconds * 1000);
    this.#timer.unref();
  }

  claim(agentId: string, maxCalls: number, holder: string, ttlMs: number): Promise<boolean> {
    return this.#redis.run(
      'agent_claim',
      async (r) =>
        (await r.eval(CLAIM, 1, this.#key(agentId), this.#member(holder), maxCalls, ttlMs)) === 1,
      true,
    );
  }

  hold(agentId: string, holder: string): void {
    this.#held.set(holder, agentId);
    void this.#renew([[holder, agentId]]);
  }

  release(agentId: string, holder: string): void {
    this.#held.delete(holder);
    void this.#redis.run(
      'agent_release',
      (r) => r.zrem(this.#key(agentId), this.#member(holder)),
      0,
    );
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #renew(entries: [string, string][] = [...this.#held]): Promise<void> {
    if (entries.length === 0 || !this.#redis.up) return;
    const keys = entries.map(([, agentId]) => this.#key(agentId));
    const members = entries.map(([holder]) => this.#member(holder));
    await this.#redis.run(
      'agent_renew',
      (r) => r.eval(RENEW, keys.length, ...keys, this.#holdMs, ...members),
      null,
    );
  }

  #key(agentId: string): string {
    return this.#redis.key('agent-slots', encodeURIComponent(agentId));
  }

  /** The instance in the member says whose claim it is (for an operator reading Redis). */
  #member(holder: string): string {
    return `${this.#instance}/${holder}`;
  }
}
