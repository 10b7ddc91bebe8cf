/**
 * One 20 ms clock for every media application of the process: players send a
 * frame, recorders and feeds take one, on each tick. One timer for all calls
 * (not one per call): 1,000 players cost 50 timer wake-ups a second, not
 * 50,000.
 *
 * Drift-free: tick n is due at start + n × 20 ms and each timeout is set for
 * the next due time, so delays never accumulate. When the event loop was
 * blocked past a tick, the missed ticks run at once (each frame still goes
 * out, late) up to {@link MAX_CATCH_UP}; beyond that the clock skips ahead
 * (a receiver would discard so old a frame anyway) and counts them.
 */

export const FRAME_MS = 20;
/** Ticks run in a burst after a stall: 100 ms of audio; older ones are skipped. */
export const MAX_CATCH_UP = 5;

export type PacerSubscriber = (tick: number) => void;

export interface PacerStats {
  readonly ticks: number;
  /** Ticks that ran one frame (20 ms) or more after they were due. */
  readonly lateTicks: number;
  /** Ticks skipped after a stall longer than {@link MAX_CATCH_UP} frames. */
  readonly skippedTicks: number;
  /** The latest a tick ran after it was due, ms. */
  readonly maxLatenessMs: number;
}

export interface PacerOptions {
  /** Clock, ms (performance.now by default: monotonic). */
  readonly now?: () => number;
  /** Called with each tick's lateness (ms) — for a histogram. */
  readonly onTick?: (latenessMs: number, subscribers: number) => void;
  /** Called when ticks ran late (count) or were skipped (count). */
  readonly onLate?: (late: number, skipped: number) => void;
  /** A subscriber threw: logged by the owner; the others still run. */
  readonly onError?: (error: unknown) => void;
}

export class Pacer {
  readonly #now: () => number;
  readonly #options: PacerOptions;
  readonly #subscribers = new Set<PacerSubscriber>();
  #timer: NodeJS.Timeout | undefined;
  /** True while ticks run (subscribing or leaving then must not touch the timer). */
  #running = false;
  #start = 0;
  #next = 0;
  #ticks = 0;
  #late = 0;
  #skipped = 0;
  #maxLateness = 0;

  constructor(options: PacerOptions = {}) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  stats(): PacerStats {
    return {
      ticks: this.#ticks,
      lateTicks: this.#late,
      skippedTicks: this.#skipped,
      maxLatenessMs: this.#maxLateness,
    };
  }

  /**
   * Calls `subscriber` on every tick with the tick's number, until the returned
   * function is called. The clock runs while anyone listens.
   */
  subscribe(subscriber: PacerSubscriber): () => void {
    this.#subscribers.add(subscriber);
    if (this.#timer === undefined && !this.#running) {
      this.#start = this.#now();
      this.#next = 1;
      this.#schedule();
    }
    return () => {
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size === 0 && this.#timer !== undefined && !this.#running) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  /** Stops the clock and forgets every subscriber. */
  close(): void {
    this.#subscribers.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    const delay = this.#start + this.#next * FRAME_MS - this.#now();
    // unref: media applications never keep the process alive on their own.
    this.#timer = setTimeout(() => this.#run(), Math.max(0, delay)).unref();
  }

  #run(): void {
    this.#running = true;
    this.#timer = undefined;
    const now = this.#now();
    const due = Math.floor((now - this.#start) / FRAME_MS);
    let late = 0;
    let skipped = 0;
    if (due - this.#next >= MAX_CATCH_UP) {
      skipped = due - this.#next - MAX_CATCH_UP + 1;
      this.#next += skipped;
    }
    while (this.#next <= due && this.#subscribers.size > 0) {
      const tick = this.#next;
      const lateness = now - (this.#start + tick * FRAME_MS);
      if (lateness >= FRAME_MS) late += 1;
      if (lateness > this.#maxLateness) this.#maxLateness = lateness;
      this.#ticks += 1;
      for (const subscriber of this.#subscribers) {
        try {
          subscriber(tick);
        } catch (error) {
          this.#options.onError?.(error);
        }
      }
      this.#options.onTick?.(lateness, this.#subscribers.size);
      this.#next += 1;
    }
    this.#late += late;
    this.#skipped += skipped;
    if (late > 0 || skipped > 0) this.#options.onLate?.(late, skipped);
    this.#running = false;
    if (this.#subscribers.size > 0) this.#schedule();
  }
}
