/**
 * Where screening keeps its state: rate-limit windows and the outstanding call
 * tokens of each session. The in-memory default suits one process; a company
 * running several web servers implements the same three operations on a shared
 * store (a Redis sorted set per key does both: ZREMRANGEBYSCORE, ZCARD, ZADD).
 *
 * Every operation receives `now` (ms since the epoch) from the screening, so the
 * store never reads a clock of its own and tests control time.
 */
export type MaybePromise<T> = T | Promise<T>;

export type StoreResult =
  { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

export interface ScreeningStore {
  /**
   * Sliding-window log for a rate limit. Forgets the hits under `key` older than
   * `now - windowMs`; when fewer than `max` remain, records a hit at `now` and
   * answers ok, otherwise answers when the oldest remaining hit leaves the window.
   * Must be atomic per key.
   */
  hit(key: string, max: number, windowMs: number, now: number): MaybePromise<StoreResult>;
  /**
   * Takes (or, for an `id` already held, renews) one of `max` slots under `key`
   * until `expiresAt`. Slots past their expiry are free again. When all are
   * taken, answers when the first one expires. Must be atomic per key.
   */
  reserve(
    key: string,
    id: string,
    max: number,
    expiresAt: number,
    now: number,
  ): MaybePromise<StoreResult>;
  /** Frees a slot early (the token it was taken for could not be issued). */
  release(key: string, id: string): MaybePromise<void>;
}

export interface MemoryScreeningStoreOptions {
  /**
   * Most keys kept (windows plus slot sets). When full, expired entries are swept
   * and then the least recently used key is forgotten, so memory stays bounded
   * even when every request comes from a new address. Default 100 000.
   */
  readonly maxKeys?: number;
  /** How often, at most, a full sweep of expired entries runs. Default 60 000 ms. */
  readonly sweepIntervalMs?: number;
}

interface Entry {
  /** Hit times (rate windows) or slot expiries by id (outstanding tokens). */
  hits?: number[];
  readonly slots?: Map<string, number>;
  /** When every part of the entry has expired. */
  forgetAt: number;
}

/** The default store: one Map in this process, forgetting expired entries as it goes. */
export class MemoryScreeningStore implements ScreeningStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxKeys: number;
  readonly #sweepIntervalMs: number;
  #nextSweep = 0;

  constructor(options: MemoryScreeningStoreOptions = {}) {
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    if (!Number.isInteger(this.#maxKeys) || this.#maxKeys < 1) {
      throw new RangeError(`maxKeys must be a positive integer, got ${this.#maxKeys}`);
    }
  }

  /** Keys currently held (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  hit(key: string, max: number, windowMs: number, now: number): StoreResult {
    this.#maybeSweep(now);
    const entry = this.#take(key, now, () => ({ hits: [], forgetAt: 0 }));
    const cutoff = now - windowMs;
    // Times are appended in order unless the clock stepped back; filter, do not shift.
    const hits = (entry.hits ?? []).filter((time) => time > cutoff);
    entry.hits = hits;
    if (hits.length < max) {
      hits.push(now);
      entry.forgetAt = largest(hits, now) + windowMs;
      return { ok: true };
    }
    entry.forgetAt = largest(hits, now) + windowMs;
    return { ok: false, retryAfterMs: Math.max(0, smallest(hits, now) + windowMs - now) };
  }

  reserve(key: string, id: string, max: number, expiresAt: number, now: number): StoreResult {
    this.#maybeSweep(now);
    const entry = this.#take(key, now, () => ({ slots: new Map(), forgetAt: 0 }));
    const slots = entry.slots ?? new Map<string, number>();
    for (const [slot, until] of slots) if (until <= now) slots.delete(slot);
    if (slots.has(id) || slots.size < max) {
      slots.set(id, expiresAt);
      entry.forgetAt = largest(slots.values(), now);
      return { ok: true };
    }
    entry.forgetAt = largest(slots.values(), now);
    return { ok: false, retryAfterMs: Math.max(0, smallest(slots.values(), now) - now) };
  }

  release(key: string, id: string): void {
    const slots = this.#entries.get(key)?.slots;
    if (!slots) return;
    slots.delete(id);
    if (slots.size === 0) this.#entries.delete(key);
  }

  /** The live entry for `key`, moved to the most-recently-used end; created when absent or expired. */
  #take(key: string, now: number, create: () => Entry): Entry {
    let entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      if (entry.forgetAt <= now) entry = undefined;
    }
    if (!entry) {
      if (this.#entries.size >= this.#maxKeys) this.#sweep(now);
      while (this.#entries.size >= this.#maxKeys) {
        const oldest = this.#entries.keys().next();
        if (oldest.done) break;
        this.#entries.delete(oldest.value);
      }
      entry = create();
    }
    this.#entries.set(key, entry);
    return entry;
  }

  #maybeSweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#sweep(now);
  }

  #sweep(now: number): void {
    this.#nextSweep = now + this.#sweepIntervalMs;
    for (const [key, entry] of this.#entries) {
      if (entry.forgetAt <= now) this.#entries.delete(key);
    }
  }
}

/** Largest of `values`, or `fallback` when there are none (no spread: `max` may be large). */
function largest(values: Iterable<number>, fallback: number): number {
  let result: number | undefined;
  for (const value of values) if (result === undefined || value > result) result = value;
  return result ?? fallback;
}

function smallest(values: Iterable<number>, fallback: number): number {
  let result: number | undefined;
  for (const value of values) if (result === undefined || value < result) result = value;
  return result ?? fallback;
}
