/**
 * Nonce counts (RFC 7616 §3.4.5, §5.10; RFC 3261 §22.4): a nonce the
 * registrar issued may authenticate several requests, each with a new
 * nonce-count (`nc`); the same `nc` twice is a replay. Only nonces that
 * authenticated something are tracked (unauthenticated traffic makes no
 * entry), until they expire; a digest without qop has no `nc` and its nonce
 * is good for one request.
 */
export class NonceCounts {
  readonly #ttlMs: number;
  readonly #maxNonces: number;
  readonly #maxCountsPerNonce: number;
  /** nonce → nc values used (-1 for a digest without qop) and when the entry may go. */
  readonly #used = new Map<string, { counts: Set<number>; forgetAt: number }>();

  constructor(options: { ttlMs: number; maxNonces?: number; maxCountsPerNonce?: number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxNonces = options.maxNonces ?? 100_000;
    this.#maxCountsPerNonce = options.maxCountsPerNonce ?? 1000;
  }

  /**
   * Records the use of `nc` (hex, undefined without qop) with `nonce`; false
   * when that count was used before (a replay) or the nonce has been used too
   * often (the client should take a fresh one).
   */
  use(nonce: string, nc: string | undefined, now: number): boolean {
    const count = nc === undefined ? -1 : parseInt(nc, 16);
    let entry = this.#used.get(nonce);
    if (!entry) {
      if (this.#used.size >= this.#maxNonces) {
        const oldest = this.#used.keys().next();
        if (!oldest.done) this.#used.delete(oldest.value);
      }
      entry = { counts: new Set(), forgetAt: now + this.#ttlMs };
      this.#used.set(nonce, entry);
    } else if (count === -1 || entry.counts.has(-1)) {
      return false; // without qop a nonce is single-use
    }
    if (entry.counts.has(count) || entry.counts.size >= this.#maxCountsPerNonce) return false;
    entry.counts.add(count);
    return true;
  }

  /** Forgets nonces past their lifetime (they are stale anyway). */
  sweep(now: number): void {
    for (const [nonce, entry] of this.#used) if (entry.forgetAt <= now) this.#used.delete(nonce);
  }

  get size(): number {
    return this.#used.size;
  }
}
