/**
 * The claim of a callback's attempt: the move from `scheduled` to `calling`,
 * written before the INVITE leaves, and only this gateway's if it lands.
 *
 * A claim can fail with its COMMIT applied (PostgreSQL committed it, the
 * answer was lost on the way back: a reset connection, a timeout). Taken for
 * a failure, the row would stay `calling`, owned by this gateway, which never
 * dials it nor ends it. So an error is never the claim's outcome: the claim
 * is asked again with its own token (`claim(…, again)`), which answers true
 * whether the first one landed or this one does, false when someone else
 * moved the row (a cancel, a survivor). The check is tried a few times; when
 * every try fails the claim stays pending here and the run rejects (the
 * scheduler runs it again later, and the check comes first): the callback is
 * neither lost nor dialled twice.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../observability/index.js';
import { AttemptLog } from './attempt-log.js';
import type { CallbackRecord } from './model.js';
import type { CallbackStore } from './store.js';

/** A claim that landed: the record before it, as claimed (`calling`), and its attempt's log. */
export interface Claimed {
  readonly stored: CallbackRecord;
  readonly record: CallbackRecord;
  readonly log: AttemptLog;
}

interface Pending extends Claimed {
  readonly token: string;
  /** A stop (a cancel) asked while no run was live: the claim, if it landed, ends that way. */
  stop?: string;
}

export interface CallbackClaimsOptions {
  readonly store: CallbackStore;
  readonly now: () => number;
  readonly logger: Logger;
  /** The record `calling` with the new attempt (the runner's snapshot). */
  readonly calling: (stored: CallbackRecord, log: AttemptLog) => CallbackRecord;
  /** Tries of the check after a failed claim, and the pause between them (times the try). */
  readonly tries: number;
  readonly retryMs: number;
  /** A check given up (after its tries). */
  readonly onFailed?: (() => void) | undefined;
}

export class CallbackClaims {
  readonly #o: CallbackClaimsOptions;
  /** Claims whose outcome is not known yet (the answer and every check failed). */
  readonly #pending = new Map<string, Pending>();

  constructor(options: CallbackClaimsOptions) {
    this.#o = options;
  }

  /**
   * A stop asked while no run of the callback is live: kept with its
   * pending claim (true), the next run ends it that way if the claim landed.
   */
  stop(id: string, reason: string): boolean {
    const pending = this.#pending.get(id);
    if (pending) pending.stop ??= reason;
    return pending !== undefined;
  }

  /** Whether a claim of the callback is pending (its outcome not known yet). */
  pending(id: string): boolean {
    return this.#pending.has(id);
  }

  /** Forgets a pending claim known not to have landed (the row moved on from `scheduled`). */
  forget(id: string): void {
    this.#pending.delete(id);
  }

  /** The stop asked for a pending claim while no run was live. */
  stopped(id: string): string | undefined {
    return this.#pending.get(id)?.stop;
  }

  /**
   * Claims the callback for its next attempt (or learns what became of the
   * pending claim). Undefined: not this gateway's to run now (not scheduled,
   * someone else moved it, or `aborted` before the claim). Rejects when the
   * store cannot tell (the run is tried again later).
   */
  async claim(id: string, aborted: () => boolean): Promise<Claimed | undefined> {
    const { store, now } = this.#o;
    let pending = this.#pending.get(id);
    if (!pending) {
      const stored = await store.get(id);
      if (!stored || stored.state !== 'scheduled' || aborted()) return undefined;
      const log = new AttemptLog(stored.attempts.length + 1, stored.phone, now);
      pending = { stored, record: this.#o.calling(stored, log), log, token: randomUUID() };
      try {
        return (await store.claim(pending.record, pending.token)) ? pending : undefined;
      } catch (error) {
        this.#o.logger.warn(
          { err: error, callback: id },
          'callback claim failed: asking the store what became of it',
        );
        this.#pending.set(id, pending);
      }
    }
    const claimed = await this.#again(pending);
    this.#pending.delete(id);
    return claimed ? pending : undefined;
  }

  /** The claim asked again with its token, a few times; rejects with the last error. */
  async #again(pending: Pending): Promise<boolean> {
    for (let n = 1; ; n += 1) {
      try {
        return await this.#o.store.claim(pending.record, pending.token, true);
      } catch (error) {
        if (n >= this.#o.tries) {
          this.#o.logger.error(
            { err: error, callback: pending.record.id, tries: n },
            'callback claim’s outcome unknown: asked again at the next run',
          );
          this.#o.onFailed?.();
          throw error;
        }
        await delay(this.#o.retryMs * n);
      }
    }
  }
}
