/**
 * One tenant's tracking numbers (S3's dynamically assigned virtual numbers):
 * each impression leases a DID for a set time; numbers come back when their
 * lease ends and are handed out again least recently used first, so a number
 * stays unassigned as long as possible and a late call to it still finds the
 * impression it was shown with. Leases are O(1): the lease time is the same
 * for every lease of a pool, so leases end in the order they began (a FIFO),
 * and released numbers queue in the order they were released (the LRU).
 */
export interface Lease {
  readonly number: string;
  readonly start: number;
  readonly end: number;
}

/** A FIFO of strings with O(1) push and shift (an array with a moving head). */
class Queue<T> {
  #items: T[] = [];
  #head = 0;
  get length(): number {
    return this.#items.length - this.#head;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  peek(): T | undefined {
    return this.#items[this.#head];
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#head += 1;
    // Compact once the dead head is half the array.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

export class TrackingNumberPool {
  readonly #leaseMs: number;
  /** Numbers free now, least recently released first. */
  readonly #free = new Queue<string>();
  /** Leases running, earliest end first. */
  readonly #leased = new Queue<Lease>();
  readonly #size: number;

  /**
   * @param numbers every DID of the pool.
   * @param running leases still running at start-up (from the impression log), with
   *   the last end of every other number that was ever leased, so the LRU order
   *   survives a restart.
   */
  constructor(
    numbers: readonly string[],
    leaseSeconds: number,
    history: readonly { number: string; end: number }[] = [],
    now = Date.now(),
  ) {
    this.#leaseMs = leaseSeconds * 1000;
    this.#size = numbers.length;
    const lastEnd = new Map(history.map((h) => [h.number, h.end]));
    const known = new Set(numbers);
    // Never leased first (in config order), then by when they were released.
    const order = [...known].sort((a, b) => (lastEnd.get(a) ?? -1) - (lastEnd.get(b) ?? -1));
    for (const number of order) {
      const end = lastEnd.get(number);
      if (end !== undefined && end > now)
        this.#leased.push({ number, start: end - this.#leaseMs, end });
      else this.#free.push(number);
    }
  }

  get size(): number {
    return this.#size;
  }

  /** Numbers under lease at `now`. */
  leasedAt(now: number): number {
    this.#release(now);
    return this.#leased.length;
  }

  /** A number for one impression, or undefined when every number is leased (exhausted). */
  lease(now: number): Lease | undefined {
    this.#release(now);
    const number = this.#free.shift();
    if (number === undefined) return undefined;
    const lease = { number, start: now, end: now + this.#leaseMs };
    this.#leased.push(lease);
    return lease;
  }

  #release(now: number): void {
    for (let head = this.#leased.peek(); head && head.end <= now; head = this.#leased.peek()) {
      this.#leased.shift();
      this.#free.push(head.number);
    }
  }
}
