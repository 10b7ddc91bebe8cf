/**
 * The desk's two clocks: the ring tone that plays while a call rings on this
 * browser, and a once-a-second render while a call timer or a wrap-up
 * countdown shows. Both are passed in (`ringTone`, `setInterval`), so a unit
 * test drives them by hand.
 */
import type { Tone } from '../client/ringback.js';

export class RingTone {
  readonly #make: (() => Tone) | undefined;
  #tone: Tone | undefined;

  constructor(make: (() => Tone) | undefined) {
    this.#make = make;
  }

  /** Rings (once, however often asked) or stops. */
  set(ring: boolean): void {
    if (ring && !this.#tone && this.#make) {
      this.#tone = this.#make();
      this.#tone.start();
    } else if (!ring) {
      this.stop();
    }
  }

  stop(): void {
    this.#tone?.stop();
    this.#tone = undefined;
  }
}

export class Ticker {
  readonly #tick: () => void;
  readonly #every: (callback: () => void, ms: number) => unknown;
  readonly #clear: (handle: unknown) => void;
  #handle: unknown;

  constructor(
    tick: () => void,
    every?: (callback: () => void, ms: number) => unknown,
    clear?: (handle: unknown) => void,
  ) {
    this.#tick = tick;
    this.#every = every ?? ((callback, ms) => setInterval(callback, ms));
    this.#clear = clear ?? ((handle) => clearInterval(handle as ReturnType<typeof setInterval>));
  }

  /** Ticks every second while `run`. */
  set(run: boolean): void {
    if (run && this.#handle === undefined) {
      this.#handle = this.#every(this.#tick, 1000);
    } else if (!run && this.#handle !== undefined) {
      this.#clear(this.#handle);
      this.#handle = undefined;
    }
  }
}
