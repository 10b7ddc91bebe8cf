/**
 * The caller's keys for one flow run: one ordered stream (RFC 4733 and SIP
 * INFO merged by the adapter), kept in a short buffer so that a key that
 * interrupted a prompt is still there for the `gather` after it (type-ahead).
 * Waiting for a key is a promise resolved by the key's arrival: no polling,
 * so a key press reaches the verb waiting for it in the same tick.
 */
import type { Digit, FlowCall } from '../ports.js';

/** Keys kept unread; older ones are dropped (nobody types ahead 32 keys). */
const MAX_BUFFERED = 32;

type Waiter = (digit: Digit) => void;

export class DigitStream {
  readonly #buffer: Digit[] = [];
  readonly #listeners = new Set<(digit: Digit) => void>();
  #waiter: Waiter | undefined;
  readonly #unsubscribe: () => void;

  /** `typedAhead`: keys an earlier reader left unread (another stream's), read first. */
  constructor(call: Pick<FlowCall, 'onDigit'>, typedAhead: readonly Digit[] = []) {
    this.#buffer.push(...typedAhead.slice(-MAX_BUFFERED));
    this.#unsubscribe = call.onDigit((digit) => this.#arrived(digit));
  }

  /** Keys pressed and not read yet. */
  get buffered(): readonly Digit[] {
    return this.#buffer;
  }

  /** Drops the keys not read yet (a verb that does not want earlier keys). */
  clear(): void {
    this.#buffer.length = 0;
  }

  /** Every key as it arrives (also those that go to the buffer); returns the unsubscribe. */
  onKey(listener: (digit: Digit) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The next key: a buffered one at once, else the next to arrive; undefined
   * after `timeoutMs` or when `signal` aborts. One reader at a time.
   */
  next(timeoutMs: number, signal: AbortSignal): Promise<Digit | undefined> {
    const first = this.#buffer.shift();
    if (first !== undefined) return Promise.resolve(first);
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const finish = (digit: Digit | undefined): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (this.#waiter === waiter) this.#waiter = undefined;
        resolve(digit);
      };
      const waiter: Waiter = (digit) => finish(digit);
      const onAbort = (): void => finish(undefined);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiter = waiter;
    });
  }

  close(): void {
    this.#unsubscribe();
    this.#listeners.clear();
    this.#buffer.length = 0;
  }

  #arrived(digit: Digit): void {
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter(digit);
    } else {
      this.#buffer.push(digit);
      if (this.#buffer.length > MAX_BUFFERED) this.#buffer.shift();
    }
    for (const listener of [...this.#listeners]) listener(digit);
  }
}
