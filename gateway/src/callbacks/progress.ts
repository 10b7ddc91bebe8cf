/**
 * Progress of callbacks for whoever watches them (the customer's page, over
 * server-sent events): each change is published to the callback's watchers;
 * a new watcher first gets where the callback is now.
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

export class CallbackProgress {
  readonly #watchers = new Map<string, Set<ProgressListener>>();

  /** Tells the callback's watchers; a throwing watcher is dropped, never breaks the call. */
  publish(event: CallbackEvent): void {
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
