/**
 * Moves what a SQLite journal holds into PostgreSQL while the gateway runs,
 * not only at its next start. The journals (flow events,
 * `flows/postgres/flow-event-journal.ts`; voicemail webhook events,
 * `voicemail/postgres/journaled-outbox.ts`) keep each entry on this
 * gateway's disk until PostgreSQL has it; a live entry's own insert deletes
 * its row within milliseconds, or after its retries (about 5 s) gives up and
 * leaves it. Before this, what was left waited for the next start, out of
 * the cluster's sight (a call's flow events missing on every gateway's API,
 * a webhook never sent) for as long as the gateway ran.
 *
 * Each tick moves only the rows that were already there at the previous
 * tick (ids up to the newest id seen then), so an entry whose own insert is
 * still in flight is not raced. One that is (a slow database; or a young row
 * that took an id again after the journal emptied: SQLite reuses the ids of
 * deleted top rows) is kept once by the journals' keys (`ON CONFLICT … DO
 * NOTHING`), or, a webhook event PostgreSQL already sent and deleted, sent
 * again with its delivery id: at least once, as the journal promises. A tick that fails (the
 * database still away) is logged and the next one tries again with the
 * newer mark. Ticks never overlap; `close` waits for a running one, so the
 * pool can be ended after it.
 */
import type { Logger } from '../../observability/index.js';

/** How often a journal's rows left behind are moved: well past the inserts' own retries. */
export const JOURNAL_MOVE_MS = 30_000;

export interface JournalMove {
  /** For the logs: `flow events`, `voicemail webhook events`. */
  readonly name: string;
  /** The journal's newest row id now (0 when it is empty). */
  newest(): number;
  /** Moves the rows with ids up to `upTo`, in their order; resolves to how many moved. */
  move(upTo: number): Promise<number>;
}

export class JournalMover {
  readonly #journal: JournalMove;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  /** Rows up to this id were there at the last tick. */
  #mark = 0;
  #running: Promise<number> | undefined;
  #closed = false;

  constructor(journal: JournalMove, logger: Logger, intervalMs: number = JOURNAL_MOVE_MS) {
    this.#journal = journal;
    this.#log = logger.child({ module: 'journal-mover', journal: journal.name });
    this.#mark = journal.newest();
    this.#timer = setInterval(() => void this.tick(), intervalMs);
    this.#timer.unref();
  }

  /** One pass (the timer's; tests call it): resolves to how many rows moved. */
  tick(): Promise<number> {
    if (this.#closed) return Promise.resolve(0);
    this.#running ??= this.#pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  async #pass(): Promise<number> {
    const upTo = this.#mark;
    let moved = 0;
    try {
      if (upTo > 0) moved = await this.#journal.move(upTo);
      if (moved > 0) this.#log.info({ moved }, `${this.#journal.name} moved from the journal`);
    } catch (err) {
      this.#log.error({ err }, `${this.#journal.name} left in the journal: tried again later`);
    }
    try {
      this.#mark = this.#journal.newest();
    } catch (err) {
      // The SQLite file closed under us (a stop): nothing more to move.
      this.#log.warn({ err }, 'journal not readable');
    }
    return moved;
  }
}
