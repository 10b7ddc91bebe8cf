/**
 * Progress of callbacks for whoever watches them (the customer's page, over
 * server-sent events): each change is published to the callback's watchers.
 * Each live callback's events are also kept (a handful per call) so that a
 * watcher who connects late (the page opens its stream after the POST returned,
 * while the gateway may already be calling) still sees every step: "calling
 * you" is never skipped. The history goes when the callback ends.
 */
import type { CallbackEvent, CallbackPhase } from '@parley/shared/protocol';
import type { CallbackRecord } from './model.js';

export type ProgressListener = (event: CallbackEvent) => void;

/** The event for a record as it is (`phase` overrides its state: `ringing`). */
export function progressEvent(
  record: CallbackRecord,
  at: number,
  phase: CallbackPhase = record.state,
): CallbackEvent {
  return {
    type: 'callback',
    id: record.id,
    phase,
    attempt: record.attempts.length,
    dueAt: record.state === 'scheduled' ? new Date(record.dueAt).toISOString() : null,
    outcome: record.outcome,
    code: record.code,
    at: new Date(at).toISOString(),
  };
}

/** Events kept per live callback (a callback has about six; retries add a few). */
const HISTORY_PER_CALLBACK = 64;
/** Live callbacks whose history is kept; past it the oldest goes first. */
const HISTORY_CALLBACKS = 10_000;

export class CallbackProgress {
  readonly #watchers = new Map<string, Set<ProgressListener>>();
  readonly #history = new Map<string, CallbackEvent[]>();

  /** Tells the callback's watchers; a throwing watcher is dropped, never breaks the call. */
  publish(event: CallbackEvent): void {
    this.#remember(event);
    const set = this.#watchers.get(event.id);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch {
        set.delete(listener);
      }
    }
  }

  /** What was published for a live callback so far, oldest first (empty once it ended). */
  history(id: string): readonly CallbackEvent[] {
    return this.#history.get(id) ?? [];
  }

  #remember(event: CallbackEvent): void {
    if (event.phase === 'ended') {
      this.#history.delete(event.id);
      return;
    }
    let past = this.#history.get(event.id);
    if (!past) {
      if (this.#history.size >= HISTORY_CALLBACKS) {
        const oldest = this.#history.keys().next();
        if (!oldest.done) this.#history.delete(oldest.value);
      }
      past = [];
      this.#history.set(event.id, past);
    }
    if (past.length >= HISTORY_PER_CALLBACK) past.shift();
    past.push(event);
  }

  /** Watches one callback; returns the unsubscribe. */
  watch(id: string, listener: ProgressListener): () => void {
    const set = this.#watchers.get(id) ?? new Set<ProgressListener>();
    set.add(listener);
    this.#watchers.set(id, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#watchers.delete(id);
    };
  }

  /** Watchers now (leak checks). */
  get size(): number {
    let n = 0;
    for (const set of this.#watchers.values()) n += set.size;
    return n;
  }
}
