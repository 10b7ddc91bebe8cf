/**
 * A callback's record writes, for its runner: they land in order (each after
 * the one before, whatever fails), each tried a given number of times; an
 * attempt's last write (its retry, its end) that fails every try is kept
 * (`unwritten`) to be written first at the callback's next run.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../observability/index.js';
import type { CallbackRecord } from './model.js';
import type { CallbackStore } from './store.js';

export type RunResult =
  | { readonly kind: 'ended'; readonly record: CallbackRecord }
  | { readonly kind: 'retry'; readonly record: CallbackRecord };

export interface RecordWritesOptions {
  readonly store: CallbackStore;
  readonly logger: Logger;
  /** A write given up (after its tries). */
  readonly onFailed?: (() => void) | undefined;
  /** Between tries (times the try). */
  readonly retryMs: number;
  /** Tries of an attempt's last write. */
  readonly lastTries: number;
}

export class RecordWrites {
  readonly #o: RecordWritesOptions;
  /** Each callback's last write (they land in order). */
  readonly #writes = new Map<string, Promise<void>>();
  /** An attempt's last write (retry, end) that failed every try: written first at its next run. */
  readonly #unwritten = new Map<string, RunResult>();

  constructor(options: RecordWritesOptions) {
    this.#o = options;
  }

  /** The last write of the callback's attempt, kept after failing every try. */
  unwritten(id: string): RunResult | undefined {
    return this.#unwritten.get(id);
  }

  /**
   * An attempt's last write (its retry, its end), tried a few times. Failing
   * them all, it is kept for the run's next try (the scheduler's, later) and
   * rejects: the record left `calling` is never taken for a stranded one.
   */
  async last(result: RunResult): Promise<void> {
    try {
      await this.write(result.record, this.#o.lastTries);
      this.#unwritten.delete(result.record.id);
    } catch (error) {
      this.#unwritten.set(result.record.id, result);
      throw error;
    }
  }

  /**
   * Writes the record (`tries` times at most), after the callback's writes
   * before it. A failure is logged and counted and rejects the answer; the
   * chain goes on.
   */
  write(record: CallbackRecord, tries = 1): Promise<void> {
    const previous = this.#writes.get(record.id) ?? Promise.resolve();
    const written = previous.then(async () => {
      for (let n = 1; ; n += 1) {
        try {
          return await this.#o.store.save(record);
        } catch (error) {
          if (n >= tries) {
            this.#o.logger.error(
              { err: error, callback: record.id, tries },
              'callback record not written',
            );
            this.#o.onFailed?.();
            throw error;
          }
          await delay(this.#o.retryMs * n);
        }
      }
    });
    const next = written.catch(() => undefined);
    this.#writes.set(record.id, next);
    void next.then(() => {
      if (this.#writes.get(record.id) === next) this.#writes.delete(record.id);
    });
    return written;
  }
}
