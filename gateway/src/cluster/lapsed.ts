/**
 * Which gateway instances are gone: those, among the ones a database still
 * names (open calls, voicemails left `recording`, rows in a shared index),
 * whose lease in Redis lapsed (`GatewayPresence.alive`, docs/scaling.md).
 */

/** Whether an instance holds its lease (`GatewayPresence.alive`). */
export type InstanceAlive = (instance: string) => Promise<boolean>;

/**
 * The candidates whose lease lapsed, in order. Each is asked when reached,
 * so a caller that works on one before taking the next asks about the next
 * after that work (a lease renewed meanwhile counts). Ends early once
 * `stopped()` says so (a sweeper closing).
 */
export async function* lapsedInstances(
  candidates: Iterable<string>,
  alive: InstanceAlive,
  stopped: () => boolean = () => false,
): AsyncGenerator<string, void, undefined> {
  for (const instance of candidates) {
    if (stopped()) return;
    if (!(await alive(instance))) yield instance;
  }
}

/** {@link lapsedInstances} all at once. */
export async function lapsedInstanceList(
  candidates: Iterable<string>,
  alive: InstanceAlive,
): Promise<string[]> {
  const lapsed: string[] = [];
  for await (const instance of lapsedInstances(candidates, alive)) lapsed.push(instance);
  return lapsed;
}

/**
 * A lease seen missing once is no proof of death: a Redis restarted empty, or
 * failed over to a replica without the keys, has every lease missing at once,
 * and each live gateway writes its own back within `heartbeatSeconds`. So an
 * instance counts as lapsed only once its lease was missing on two looks at
 * least `leaseMs` apart with none between seeing it held: by then a live
 * gateway has beaten several times. The price is the detection time, up to
 * twice the lease (docs/scaling.md, "Drain and failure").
 */
export class ConfirmedLapses {
  readonly #leaseMs: number;
  readonly #maxGapMs: number;
  readonly #now: () => number;
  /** Instance → when its lease was first seen missing (no look since saw it held), and the last look. */
  readonly #missing = new Map<string, { since: number; lastLook: number }>();

  /**
   * `maxGapMs`: looks further apart than this prove nothing about the time
   * between them (the sweeper could not look: its database was down), so the
   * count starts again at the next one (default: no limit).
   */
  constructor(options: { leaseMs: number; now: () => number; maxGapMs?: number }) {
    this.#leaseMs = options.leaseMs;
    this.#maxGapMs = options.maxGapMs ?? Number.POSITIVE_INFINITY;
    this.#now = options.now;
  }

  /**
   * `alive` as {@link lapsedInstances} wants it: false only for an instance
   * whose lease `leaseAlive` has said missing for `leaseMs` at least. Each
   * call is a look.
   */
  alive(leaseAlive: InstanceAlive): InstanceAlive {
    return async (instance) => {
      if (await leaseAlive(instance)) {
        this.#missing.delete(instance);
        return true;
      }
      const now = this.#now();
      const seen = this.#missing.get(instance);
      if (seen === undefined || now - seen.lastLook > this.#maxGapMs) {
        this.#missing.set(instance, { since: now, lastLook: now });
        return true;
      }
      seen.lastLook = now;
      return now - seen.since < this.#leaseMs;
    };
  }

  /** Forgets the instances not among `current` (no longer named by any open record). */
  keepOnly(current: ReadonlySet<string>): void {
    for (const instance of this.#missing.keys())
      if (!current.has(instance)) this.#missing.delete(instance);
  }
}
