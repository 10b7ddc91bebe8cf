/**
 * When each callback runs: at its time (now, a time slot, a retry), or for
 * "when an agent is free" as soon as its queue has one (told by the agents'
 * presence changes, never polled) until it expires. At most `maxConcurrent`
 * run at once; the others wait their turn, soonest first. One timer for the
 * soonest due time, whatever the number of callbacks waiting.
 */
export interface SchedulerEntry {
  readonly id: string;
  /** When it may run (epoch ms). */
  readonly dueAt: number;
  /** "When an agent is free": the queue it waits for. */
  readonly waitFor: string | null;
  /** When waiting gives up (agent-free). */
  readonly expiresAt: number | null;
}

export interface CallbackSchedulerOptions {
  readonly maxConcurrent: number;
  readonly now: () => number;
  /** Free agents of a queue now (candidates for a call). */
  readonly freeAgents: (queue: string) => number;
  /** Calls `listener` when an agent may have become free; returns the unsubscribe. */
  readonly onAgentChange: (listener: () => void) => () => void;
  /** Runs the callback's attempt; settles when the attempt is over. */
  readonly run: (id: string) => Promise<void>;
  /**
   * An agent-free callback waited too long: ends it. A rejection (the store
   * unreachable) is told to `onExpireFailed` and the expiry is tried again
   * `retryDelayMs(failures)` later, as a run is, until it settles: never
   * lost, and never run in between (the wait is over); `again` then.
   */
  readonly expire: (id: string, again: boolean) => Promise<void>;
  readonly onExpireFailed?: ((id: string, error: unknown, failures: number) => void) | undefined;
  /**
   * A run that rejected (the store unreachable at its time): told here, and
   * the callback runs again `retryDelayMs(failures)` later (default 1 s,
   * doubling to 60 s), until a run settles.
   */
  readonly onRunFailed?: ((id: string, error: unknown, failures: number) => void) | undefined;
  readonly retryDelayMs?: ((failures: number) => number) | undefined;
  /**
   * Whether a rejected run left a run begun to settle (its claim's outcome
   * unknown, its last write not written: `CallbackRunner.owes`). Its retry
   * is then no new wait: it neither waits for a free agent nor expires.
   */
  readonly owes?: ((id: string) => boolean) | undefined;
}

const retryDelay = (failures: number) => Math.min(60_000, 1000 * 2 ** (failures - 1));

/** Timers longer than this are set in steps (setTimeout holds 2^31-1 ms at most). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class CallbackScheduler {
  readonly #o: CallbackSchedulerOptions;
  readonly #waiting = new Map<string, SchedulerEntry>();
  /** Due and waiting for a free run slot. */
  readonly #ready: SchedulerEntry[] = [];
  readonly #running = new Map<string, SchedulerEntry>();
  /** Added again while running (a retry): waits once its attempt is over. */
  readonly #next = new Map<string, SchedulerEntry>();
  /** Runs (or expiries) that rejected in a row, by callback. */
  readonly #failures = new Map<string, number>();
  /** Expiries owed: under way, or rejected and waiting for their retry (until one settles). */
  readonly #expiring = new Set<string>();
  readonly #unsubscribe: () => void;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: CallbackSchedulerOptions) {
    this.#o = options;
    this.#unsubscribe = options.onAgentChange(() => this.#pump());
  }

  get running(): number {
    return this.#running.size;
  }

  get waiting(): number {
    return this.#waiting.size + this.#ready.length;
  }

  add(entry: SchedulerEntry): void {
    if (this.#closed) return;
    // Its wait is over: the expiry ends it, or waits again for its retry.
    if (this.#expiring.has(entry.id)) return;
    if (this.#running.has(entry.id)) {
      this.#next.set(entry.id, entry);
      return;
    }
    this.remove(entry.id);
    this.#waiting.set(entry.id, entry);
    this.#pump();
  }

  /** Whether the callback is here (waiting, due, running, expiring, or to wait again after its run). */
  has(id: string): boolean {
    return (
      this.#waiting.has(id) ||
      this.#expiring.has(id) ||
      this.#running.has(id) ||
      this.#next.has(id) ||
      this.#ready.some((e) => e.id === id)
    );
  }

  /** Forgets a callback that has not started (cancelled). True when it was waiting. */
  remove(id: string): boolean {
    const i = this.#ready.findIndex((e) => e.id === id);
    if (i >= 0) this.#ready.splice(i, 1);
    this.#expiring.delete(id);
    return this.#waiting.delete(id) || this.#next.delete(id) || i >= 0;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#unsubscribe();
    this.#waiting.clear();
    this.#next.clear();
    this.#failures.clear();
    this.#expiring.clear();
    this.#ready.length = 0;
  }

  /** Moves what is due to ready, starts what the slots allow, sets the next timer. */
  #pump(): void {
    if (this.#closed) return;
    const now = this.#o.now();
    const free = new Map<string, number>();
    const freeFor = (queue: string) => {
      let n = free.get(queue);
      if (n === undefined) {
        const inFlight = [...this.#running.values(), ...this.#ready].filter(
          (e) => e.waitFor === queue,
        ).length;
        n = Math.max(0, this.#o.freeAgents(queue) - inFlight);
      }
      free.set(queue, n);
      return n;
    };
    const due = [...this.#waiting.values()].sort((a, b) => a.dueAt - b.dueAt);
    for (const entry of due) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) {
        this.#waiting.delete(entry.id);
        this.#expire(entry);
        continue;
      }
      if (entry.dueAt > now) continue;
      if (entry.waitFor !== null) {
        if (freeFor(entry.waitFor) === 0) continue;
        free.set(entry.waitFor, (free.get(entry.waitFor) ?? 1) - 1);
      }
      this.#waiting.delete(entry.id);
      this.#ready.push(entry);
    }
    while (this.#ready.length > 0 && this.#running.size < this.#o.maxConcurrent) {
      const entry = this.#ready.shift()!;
      this.#running.set(entry.id, entry);
      void this.#o
        .run(entry.id)
        .then(
          () => void this.#failures.delete(entry.id),
          (error: unknown) => this.#failed(entry, error),
        )
        .then((retry) => {
          this.#running.delete(entry.id);
          const again = this.#next.get(entry.id) ?? retry;
          this.#next.delete(entry.id);
          if (again && !this.#closed) this.#waiting.set(again.id, again);
          this.#pump();
        });
    }
    this.#arm(now);
  }

  /** Ends a callback that waited too long; a rejected expiry is tried again later (never lost). */
  #expire(entry: SchedulerEntry): void {
    const again = this.#expiring.has(entry.id);
    this.#expiring.add(entry.id);
    const expired = (async () => this.#o.expire(entry.id, again))();
    void expired.then(
      () => {
        this.#expiring.delete(entry.id);
        this.#failures.delete(entry.id);
      },
      (error: unknown) => {
        // Closed, or removed meanwhile (cancelled): nothing owed any more.
        if (this.#closed || !this.#expiring.has(entry.id)) return;
        const failures = (this.#failures.get(entry.id) ?? 0) + 1;
        this.#failures.set(entry.id, failures);
        try {
          this.#o.onExpireFailed?.(entry.id, error, failures);
        } catch {
          // A failing report must not lose the expiry.
        }
        // Due and expiring at the retry: expired then, not run before (its wait is over).
        const at = this.#o.now() + (this.#o.retryDelayMs ?? retryDelay)(failures);
        this.#waiting.set(entry.id, { ...entry, dueAt: at, expiresAt: at });
        this.#pump();
      },
    );
  }

  /** A rejected run: the callback is still this gateway's (never dropped); it runs again later. */
  #failed(entry: SchedulerEntry, error: unknown): SchedulerEntry {
    const failures = (this.#failures.get(entry.id) ?? 0) + 1;
    this.#failures.set(entry.id, failures);
    try {
      this.#o.onRunFailed?.(entry.id, error, failures);
    } catch {
      // A failing report must not lose the callback.
    }
    const delay = (this.#o.retryDelayMs ?? retryDelay)(failures);
    const retry = { ...entry, dueAt: this.#o.now() + delay };
    // Claimed (or attempted) already: expired now, the row would stay calling, the claim pending.
    return this.#o.owes?.(entry.id) ? { ...retry, waitFor: null, expiresAt: null } : retry;
  }

  #arm(now: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.#waiting.values()) {
      if (e.dueAt > now) next = Math.min(next, e.dueAt);
      if (e.expiresAt !== null) next = Math.min(next, e.expiresAt);
    }
    if (!Number.isFinite(next)) return;
    this.#timer = setTimeout(() => this.#pump(), Math.min(MAX_TIMER_MS, Math.max(0, next - now)));
    this.#timer.unref();
  }
}
