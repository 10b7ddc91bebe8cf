import type { SharedNumberLeases } from '../numbers/index.js';
import type { RedisLink } from './redis-link.js';
import { WriteRetries } from './retries.js';

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
 * A claim or a renewal that fails while Redis stays up (a command refused, a
 * reply past the timeout) is made again the same way until it lands
 * (`retries.ts`).
 */
export class RedisNumberLeases implements SharedNumberLeases {
  readonly #redis: RedisLink;
  readonly #holdMs: number;
  /** number → holder, while a call is on it. */
  readonly #held = new Map<string, string>();
  /** Claims granted without Redis's answer (its write failed): number → holder and ttl. */
  readonly #unclaimed = new Map<string, { holder: string; ttlMs: number }>();
  readonly #retries: WriteRetries<'claims'>;
  readonly #timer: NodeJS.Timeout;
  readonly #onUp = () => void this.#claimAgain();

  constructor(redis: RedisLink, options: { heartbeatSeconds: number; leaseSeconds: number }) {
    this.#redis = redis;
    redis.on('up', this.#onUp);
    this.#retries = new WriteRetries(redis, 'numbers', () => this.#claimAgain());
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

  async claim(number: string, holder: string, ttlMs: number): Promise<boolean> {
    if (this.#unclaimed.get(number)?.holder === holder) this.#unclaimed.delete(number);
    const granted = await this.#redis.run(
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
      null,
    );
    if (granted !== null) return granted;
    // Granted (the gateway goes on alone), and claimed again once Redis takes it.
    this.#unclaimed.set(number, { holder, ttlMs });
    this.#retries.failed('claims');
    return true;
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
    this.#retries.close();
  }

  /** The numbers with calls on them, and the claims whose write failed, claimed again. */
  async #claimAgain(): Promise<void> {
    const unclaimed = [...this.#unclaimed];
    this.#unclaimed.clear();
    await Promise.all([
      ...[...this.#held].map(([n, h]) => this.claim(n, h, this.#holdMs)),
      ...unclaimed
        .filter(([n]) => !this.#held.has(n))
        .map(([n, { holder, ttlMs }]) => this.claim(n, holder, ttlMs)),
    ]);
  }

  async #renew(entries: [string, string][], ttlMs = this.#holdMs): Promise<void> {
    if (entries.length === 0 || !this.#redis.up) return;
    const keys = entries.flatMap(([number, holder]) => [
      this.#numberKey(number),
      this.#sessionKey(holder),
    ]);
    const done = await this.#redis.run(
      'number_renew',
      (r) => r.eval(RENEW, keys.length, ...keys, Math.max(1, ttlMs), ...entries.map(([, h]) => h)),
      null,
    );
    // The held ones claimed again (an unhold's shorter lease is left to lapse at the longer one).
    if (done === null) this.#retries.failed('claims');
  }

  #numberKey(number: string): string {
    return this.#redis.key('number', number);
  }

  #sessionKey(holder: string): string {
    return this.#redis.key('number-of', encodeURIComponent(holder));
  }
}
