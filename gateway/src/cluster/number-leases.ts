import type { SharedNumberLeases } from '../numbers/index.js';
import type { RedisLink } from './redis-link.js';

/**
 * Takes a number for a holder when it is free or already the holder's, and
 * records it as the holder's number, both for `ttl` ms (Redis's clock). One
 * script: two gateways claiming one number cannot both get it.
 * KEYS: number key, session key. ARGV: holder, number, ttl.
 */
const CLAIM = `
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
`;

/**
 * The holder's last number, taken again when free or still the holder's.
 * KEYS: session key. ARGV: holder, ttl, the number keys' prefix.
 */
const RECLAIM = `
local number = redis.call('GET', KEYS[1])
if not number then return false end
local key = ARGV[3] .. number
local current = redis.call('GET', key)
if current and current ~= ARGV[1] then return false end
redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return number
`;

/** Renews the claims still the holders' (`number`, `holder` pairs in ARGV after the ttl). */
const RENEW = `
local ttl = ARGV[1]
for i = 1, #KEYS / 2 do
  local holder = ARGV[i + 1]
  if redis.call('GET', KEYS[2 * i - 1]) == holder then
    redis.call('PEXPIRE', KEYS[2 * i - 1], ttl)
    redis.call('PEXPIRE', KEYS[2 * i], ttl)
  end
end
return 1
`;

/**
 * Caller-ID numbers in Redis: `number:<e164>` holds the session that has it,
 * `number-of:<tenant>%0A<session>` the session's number, both expiring
 * together. Numbers with calls on them are renewed every heartbeat for
 * `leaseSeconds`, so a killed gateway's numbers come free by then plus the
 * grace period. When Redis comes back the numbers with calls on them are
 * claimed again (the renewal only extends a claim still there): a Redis
 * restarted empty forgot them, and a claim granted while Redis was away was
 * never written, so another gateway gave the same number to another session.
 */
export class RedisNumberLeases implements SharedNumberLeases {
  readonly #redis: RedisLink;
  readonly #holdMs: number;
  /** number → holder, while a call is on it. */
  readonly #held = new Map<string, string>();
  readonly #timer: NodeJS.Timeout;
  readonly #onUp = () =>
    void Promise.all([...this.#held].map(([n, h]) => this.claim(n, h, this.#holdMs)));

  constructor(redis: RedisLink, options: { heartbeatSeconds: number; leaseSeconds: number }) {
    this.#redis = redis;
    redis.on('up', this.#onUp);
    this.#holdMs = options.leaseSeconds * 1000;
    this.#timer = setInterval(
      () => void this.#renew([...this.#held]),
      options.heartbeatSeconds * 1000,
    );
    this.#timer.unref();
  }

  reclaim(holder: string, ttlMs: number): Promise<string | undefined> {
    return this.#redis.run(
      'number_reclaim',
      async (r) => {
        const number = await r.eval(
          RECLAIM,
          1,
          this.#sessionKey(holder),
          holder,
          Math.max(ttlMs, this.#holdMs),
          this.#numberKey(''),
        );
        return typeof number === 'string' ? number : undefined;
      },
      undefined,
    );
  }

  claim(number: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.#redis.run(
      'number_claim',
      async (r) =>
        (await r.eval(
          CLAIM,
          2,
          this.#numberKey(number),
          this.#sessionKey(holder),
          holder,
          number,
          Math.max(ttlMs, this.#holdMs),
        )) === 1,
      true,
    );
  }

  hold(number: string, holder: string): void {
    this.#held.set(number, holder);
    void this.#renew([[number, holder]]);
  }

  unhold(number: string, holder: string, ttlMs: number): void {
    if (this.#held.get(number) === holder) this.#held.delete(number);
    void this.#renew([[number, holder]], ttlMs);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#redis.off('up', this.#onUp);
  }

  async #renew(entries: [string, string][], ttlMs = this.#holdMs): Promise<void> {
    if (entries.length === 0 || !this.#redis.up) return;
    const keys = entries.flatMap(([number, holder]) => [
      this.#numberKey(number),
      this.#sessionKey(holder),
    ]);
    await this.#redis.run(
      'number_renew',
      (r) => r.eval(RENEW, keys.length, ...keys, Math.max(1, ttlMs), ...entries.map(([, h]) => h)),
      null,
    );
  }

  #numberKey(number: string): string {
    return this.#redis.key('number', number);
  }

  #sessionKey(holder: string): string {
    return this.#redis.key('number-of', encodeURIComponent(holder));
  }
}
