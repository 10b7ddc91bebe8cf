import type { SlotClaims } from '../agents/index.js';
import type { RedisLink } from './redis-link.js';
import { WriteRetries } from './retries.js';

/**
 * Slot claims in Redis (agents' `maxCalls`, tenants' concurrent calls): one
 * sorted set per agent or tenant (`<namespace>:<id>`), members the holders, scores when each claim
 * lapses (Redis's own clock, so gateways' clocks do not matter). A claim is
 * one script: drop lapsed claims, count, add if under `maxCalls`. Answered
 * held claims are renewed every heartbeat for `leaseSeconds`, so a killed
 * gateway's slots come free by then.
 *
 * While Redis is down a claim is granted (counted as an error): a call then
 * goes on as it would on a single gateway (whose own counts still hold) rather
 * than not at all. A release or a renewal that fails, Redis down or up (a
 * command refused, a reply past the timeout), is sent again until it lands
 * (`retries.ts`), and at once when Redis is back: a claim left in Redis held
 * the agent taken on every gateway until it lapsed (the lease, or the ring
 * timeout + 30 s; for ever, renewed, had nothing else failed). And the held
 * (answered) claims are written again when Redis is back, not only renewed:
 * one granted while Redis was away, or lost by a Redis restarted empty, let
 * another gateway offer the agent a second call.
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

/**
 * Renews held claims for `ttl` from now: a plain `ZADD`, which sets the
 * score whatever it was (a ring's claim, granted for the ring timeout + 30 s,
 * comes down to the lease at the answer: `GT` never lowers it, and a killed
 * gateway's answered agent stayed taken for half a minute) and writes back a
 * claim Redis lost (one granted while it was away, or forgotten by a Redis
 * restarted empty: `XX` never wrote those). ARGV: ttl, members.
 */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[i - 1], now + ttl, ARGV[i])
  if redis.call('PTTL', KEYS[i - 1]) < ttl then redis.call('PEXPIRE', KEYS[i - 1], ttl) end
end
return 1
`;

/** The sorted set of `id`'s claims in `namespace` (the queue state reads agents' slots too). */
export function slotClaimKey(redis: RedisLink, namespace: string, id: string): string {
  return redis.key(namespace, encodeURIComponent(id));
}

export class RedisSlotClaims implements SlotClaims {
  readonly #redis: RedisLink;
  readonly #instance: string;
  readonly #namespace: string;
  readonly #holdMs: number;
  /** Held claims: holder → id. */
  readonly #held = new Map<string, string>();
  /** Releases that failed: member → key, sent again by `#releases`. */
  readonly #unreleased = new Map<string, string>();
  readonly #releases: WriteRetries<string>;
  /** A renewal that failed: every held claim renewed again. */
  readonly #renewals: WriteRetries<'held'>;
  readonly #timer: NodeJS.Timeout;
  readonly #onUp = () => void this.#renew();

  constructor(
    redis: RedisLink,
    options: {
      /** Key and metric label: `agent-slots`, `tenant-calls`. */
      namespace: string;
      instanceId: string;
      heartbeatSeconds: number;
      leaseSeconds: number;
    },
  ) {
    this.#redis = redis;
    this.#namespace = options.namespace;
    this.#instance = options.instanceId;
    this.#holdMs = options.leaseSeconds * 1000;
    this.#timer = setInterval(() => void this.#renew(), options.heartbeatSeconds * 1000);
    this.#timer.unref();
    this.#releases = new WriteRetries(redis, `${this.#op}`, (members) =>
      this.#releaseAgain(members),
    );
    this.#renewals = new WriteRetries(redis, `${this.#op}_held`, () => this.#renew());
    redis.on('up', this.#onUp);
  }

  claim(id: string, max: number, holder: string, ttlMs: number): Promise<boolean> {
    // Claimed anew: a release of before still waiting must not take the new claim away.
    const member = this.#member(holder);
    this.#unreleased.delete(member);
    this.#releases.written(member);
    return this.#redis.run(
      `${this.#op}_claim`,
      async (r) => (await r.eval(CLAIM, 1, this.#key(id), member, max, ttlMs)) === 1,
      true,
    );
  }

  hold(id: string, holder: string): void {
    this.#held.set(holder, id);
    void this.#renew([[holder, id]]);
  }

  release(id: string, holder: string): void {
    this.#held.delete(holder);
    void this.#release(this.#key(id), this.#member(holder));
  }

  close(): void {
    clearInterval(this.#timer);
    this.#releases.close();
    this.#renewals.close();
    this.#redis.off('up', this.#onUp);
  }

  async #release(key: string, member: string): Promise<void> {
    this.#unreleased.set(member, key);
    this.#releases.written(member);
    const done = await this.#redis.run(`${this.#op}_release`, (r) => r.zrem(key, member), -1);
    // A claim by the same holder since (`claim` forgot this release) is left alone.
    if (this.#unreleased.get(member) !== key) return;
    if (done === -1) this.#releases.failed(member);
    else this.#unreleased.delete(member);
  }

  async #releaseAgain(members: readonly string[]): Promise<void> {
    await Promise.all(
      members.map((member) => {
        const key = this.#unreleased.get(member);
        return key === undefined ? undefined : this.#release(key, member);
      }),
    );
  }

  /*
   * A released holder leaves `#held` before its ZREM is sent, and a renewal
   * is sent in the same tick as its snapshot (one connection, in order): no
   * renewal brings a released claim back.
   */
  async #renew(entries: [string, string][] = [...this.#held]): Promise<void> {
    if (entries.length === 0) return;
    // Down: the `up` that ends the outage renews every held claim.
    if (!this.#redis.up) return;
    const keys = entries.map(([, id]) => this.#key(id));
    const members = entries.map(([holder]) => this.#member(holder));
    const done = await this.#redis.run(
      `${this.#op}_renew`,
      (r) => r.eval(RENEW, keys.length, ...keys, this.#holdMs, ...members),
      null,
    );
    if (done === null) this.#renewals.failed('held');
  }

  get #op(): string {
    return this.#namespace.replace(/-/g, '_');
  }

  #key(id: string): string {
    return slotClaimKey(this.#redis, this.#namespace, id);
  }

  /** The instance in the member says whose claim it is (for an operator reading Redis). */
  #member(holder: string): string {
    return `${this.#instance}/${holder}`;
  }
}
