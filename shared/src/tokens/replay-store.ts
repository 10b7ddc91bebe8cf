/**
 * Remembers which token ids were used, until they expire. The gateway's default
 * is in memory; a scale-out deployment plugs in a shared store (Redis SET NX PX).
 */
export interface ReplayStore {
  /**
   * Marks `id` used until `expiresAtMs`. Resolves true when this is its first use,
   * false when it was used before (a replay). With `use` (what the token is
   * spent on, e.g. a SIP INVITE's Call-ID), the same use again is not a
   * replay: a SIP proxy failing the same INVITE over to another gateway of
   * the cluster after a timeout must not meet `replayed` there.
   */
  consume(id: string, expiresAtMs: number, use?: string): Promise<boolean>;
}

/** In-memory replay store; expired ids are swept as new ones arrive. */
export class MemoryReplayStore implements ReplayStore {
  readonly #seen = new Map<string, { readonly until: number; readonly use: string | undefined }>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  #nextSweep = 0;

  constructor(options: { now?: () => number; maxEntries?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 1_000_000;
  }

  consume(id: string, expiresAtMs: number, use?: string): Promise<boolean> {
    const now = this.#now();
    if (now >= this.#nextSweep || this.#seen.size >= this.#maxEntries) this.#sweep(now);
    const seen = this.#seen.get(id);
    if (seen !== undefined && seen.until > now)
      return Promise.resolve(use !== undefined && seen.use === use);
    // Full even after a sweep: refusing is safer than forgetting a live id.
    if (this.#seen.size >= this.#maxEntries) return Promise.resolve(false);
    this.#seen.set(id, { until: expiresAtMs, use });
    return Promise.resolve(true);
  }

  get size(): number {
    return this.#seen.size;
  }

  #sweep(now: number): void {
    for (const [id, { until }] of this.#seen) if (until <= now) this.#seen.delete(id);
    this.#nextSweep = now + 1000;
  }
}
