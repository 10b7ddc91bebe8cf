/**
 * At most `limit` holders at once, waiters served in order, a waiter leaving
 * when its signal aborts. Hand-written: p-limit and friends queue work but
 * cannot drop a waiter whose deadline passed, which is the point here (a
 * request that timed out in the queue must not start flite later).
 */
export class Semaphore {
  readonly #limit: number;
  #held = 0;
  readonly #waiters: { resolve: () => void }[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  get held(): number {
    return this.#held;
  }

  /** Resolves with a release function; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#held < this.#limit) {
      this.#held += 1;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#held += 1;
          resolve(this.#releaser());
        },
      };
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held -= 1;
      this.#waiters.shift()?.resolve();
    };
  }
}
