import { EventEmitter } from 'node:events';
import type { SipRequest } from '../message/index.js';

/**
 * What every transaction shares: a state, timers that all stop when it
 * terminates, and a `terminated` event that the transaction layer uses to drop
 * it from its tables (so nothing leaks).
 */
export abstract class Transaction<
  State extends string,
  Events extends Record<keyof Events, unknown[]> & { terminated: [] },
> extends EventEmitter<Events> {
  readonly key: string;
  readonly request: SipRequest;
  #state: State;
  readonly #timers = new Map<string, NodeJS.Timeout>();

  protected constructor(key: string, request: SipRequest, initial: State) {
    super();
    this.key = key;
    this.request = request;
    this.#state = initial;
  }

  get state(): State {
    return this.#state;
  }

  get terminated(): boolean {
    return this.#state === 'terminated';
  }

  protected setState(state: State): void {
    if (this.#state === 'terminated') return;
    this.#state = state;
    if (state === 'terminated') {
      for (const timer of this.#timers.values()) clearTimeout(timer);
      this.#timers.clear();
      (this as EventEmitter<{ terminated: [] }>).emit('terminated');
    }
  }

  /** (Re)starts a named timer; a timer set to 0 ms fires on the next tick. */
  protected startTimer(name: string, ms: number, fire: () => void): void {
    this.stopTimer(name);
    if (this.terminated) return;
    this.#timers.set(
      name,
      setTimeout(() => {
        this.#timers.delete(name);
        if (!this.terminated) fire();
      }, ms),
    );
  }

  protected stopTimer(name: string): void {
    const timer = this.#timers.get(name);
    if (timer) clearTimeout(timer);
    this.#timers.delete(name);
  }

  /** Ends the transaction at once (the layer closing, or the TU giving up). */
  terminate(): void {
    this.setState('terminated' as State);
  }
}
