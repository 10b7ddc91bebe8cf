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
   * the cluster after a timeout must not meet `replayed` there. Only within
   * `SAME_USE_WINDOW_MS` of the first use (a failover comes within seconds): an
   * eavesdropper holding a copy of the whole INVITE (token and Call-ID) cannot
   * place it again for the rest of the token's life.
   */
  consume(id: string, expiresAtMs: number, use?: string): Promise<boolean>;
}

/**
 * How long after a token's first use the same use is still no replay: the
 * INVITE transaction's own life (Timer B, 64 × T1 at T1 = 500 ms), which
 * bounds any proxy's failover of it.
 */
export const SAME_USE_WINDOW_MS = 32_000;

/** Whether a token first spent on `first` at `firstAtMs` may be spent on `use` at `nowMs`. */
export function sameUse(
  first: { readonly use: string | undefined; readonly at: number },
  use: string | undefined,
  nowMs: number,
): boolean {
  return use !== undefined && first.use === use && Math.abs(nowMs - first.at) <= SAME_USE_WINDOW_MS;
}

/** In-memory replay store; expired ids are swept as new ones arrive. */
export class MemoryReplayStore implements ReplayStore {
  readonly #seen = new Map<
    string,
    { readonly until: number; readonly use: string | undefined; readonly at: number }
  >();
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
    if (seen !== undefined && seen.until > now) return Promise.resolve(sameUse(seen, use, now));
    // Full even after a sweep: refusing is safer than forgetting a live id.
    if (this.#seen.size >= this.#maxEntries) return Promise.resolve(false);
    this.#seen.set(id, { until: expiresAtMs, use, at: now });
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
