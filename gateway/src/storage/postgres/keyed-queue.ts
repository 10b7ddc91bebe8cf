/**
 * Writes in order per key (a call's id, a session): a pool runs queries on
 * several connections, so without this a call's update could commit before
 * its insert. `after(key)` resolves once every write queued for the key so
 * far has settled (reads wait for it: a process reads its own writes).
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, write: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(write, write);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }

  after(key: string): Promise<unknown> {
    return this.#tails.get(key) ?? Promise.resolve();
  }

  /** Resolves once every write queued so far, for every key, has settled (before the pool closes). */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
  }
}
