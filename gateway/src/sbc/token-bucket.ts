/**
 * Per-key token buckets (one key per source address): `take(key)` answers
 * whether a request may pass. Memory is bounded: full buckets are forgotten
 * (they hold no information) and, past `maxKeys`, the oldest key goes first.
 */
export class TokenBuckets {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** key → [tokens, last refill ms]; Map order is insertion order, refreshed on use. */
  readonly #buckets = new Map<string, [number, number]>();

  constructor(options: { perSecond: number; burst: number; maxKeys?: number; now?: () => number }) {
    this.#rate = options.perSecond / 1000;
    this.#burst = options.burst;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one token for `key`; false when the bucket is empty. */
  take(key: string): boolean {
    const now = this.#now();
    const bucket = this.#buckets.get(key);
    let tokens = this.#burst;
    if (bucket) {
      tokens = Math.min(this.#burst, bucket[0] + (now - bucket[1]) * this.#rate);
      this.#buckets.delete(key);
    } else if (this.#buckets.size >= this.#maxKeys) {
      this.#evict(now);
    }
    if (tokens < 1) {
      this.#buckets.set(key, [tokens, now]);
      return false;
    }
    this.#buckets.set(key, [tokens - 1, now]);
    return true;
  }

  get size(): number {
    return this.#buckets.size;
  }

  #evict(now: number): void {
    for (const [key, [tokens, at]] of this.#buckets) {
      if (tokens + (now - at) * this.#rate >= this.#burst) this.#buckets.delete(key);
    }
    if (this.#buckets.size >= this.#maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
  }
}
