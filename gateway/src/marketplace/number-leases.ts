/**
 * A tenant's tracking-number leases as placements use them: in this
 * gateway's memory over its own impression log (`LocalNumberLeases`, one
 * gateway), or agreed in PostgreSQL by every gateway of a cluster
 * (`PgNumberLeases`, `pg-number-leases.ts`), so that two gateways never hand
 * the same number to two impressions at once.
 */
import { TrackingNumberPool, type Lease } from './number-pool.js';

export interface NumberLeases {
  /** How many numbers the pool has. */
  readonly size: number;
  /** Rebuilds what the leases remember (running leases, the LRU order) at start-up. */
  start(now: number): Promise<void>;
  /** A number for one impression, or undefined when every number is leased (exhausted). */
  lease(now: number): Promise<Lease | undefined>;
  /**
   * Numbers for `count` impressions of one placement (at most 31), least
   * recently released first; fewer when the pool runs out.
   */
  leaseMany(now: number, count: number): Promise<Lease[]>;
  /** Numbers under lease at `now`. */
  leasedAt(now: number): Promise<number>;
}

/** The leases in this gateway's memory (O(1), `number-pool.ts`), rebuilt from its impression log. */
export class LocalNumberLeases implements NumberLeases {
  readonly #numbers: readonly string[];
  readonly #leaseSeconds: number;
  readonly #history: () => Promise<{ number: string; end: number }[]>;
  #pool: TrackingNumberPool;

  constructor(
    numbers: readonly string[],
    leaseSeconds: number,
    history: () => Promise<{ number: string; end: number }[]>,
  ) {
    this.#numbers = numbers;
    this.#leaseSeconds = leaseSeconds;
    this.#history = history;
    this.#pool = new TrackingNumberPool(numbers, leaseSeconds, [], 0);
  }

  get size(): number {
    return this.#pool.size;
  }

  async start(now: number): Promise<void> {
    this.#pool = new TrackingNumberPool(
      this.#numbers,
      this.#leaseSeconds,
      await this.#history(),
      now,
    );
  }

  async lease(now: number): Promise<Lease | undefined> {
    return this.#pool.lease(now);
  }

  async leaseMany(now: number, count: number): Promise<Lease[]> {
    const out: Lease[] = [];
    for (let i = 0; i < count; i += 1) {
      const lease = this.#pool.lease(now);
      if (!lease) break;
      out.push(lease);
    }
    return out;
  }

  async leasedAt(now: number): Promise<number> {
    return this.#pool.leasedAt(now);
  }
}
