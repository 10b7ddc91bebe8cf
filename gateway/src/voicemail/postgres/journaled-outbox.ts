/**
 * The shared webhook outbox (PostgreSQL) behind a journal in this gateway's
 * SQLite file, so that an event raised is on disk before `add` returns, as it
 * is with the embedded outbox: the insert into PostgreSQL is asynchronous
 * (and tried again while the database is away), and a gateway that stopped
 * (crash, SIGKILL) before it committed lost the event. Now `add` writes the
 * entry to SQLite's `vm_webhook_outbox` synchronously, hands it to the
 * shared outbox, and deletes the journal row once PostgreSQL has it.
 *
 * What a stop leaves in the journal is moved into PostgreSQL at the next
 * start, in its order, by the same move that carried over the outbox of
 * gateways from before it was shared (`outbox-move.ts`). An entry that had
 * committed before the stop (its journal row not deleted yet) and is still
 * in the shared table is kept once (`ON CONFLICT (delivery) DO NOTHING`);
 * one that another gateway delivered meanwhile is sent again: at least once,
 * with its delivery id unchanged, so the receiver drops the copy. A moved
 * entry reaches its lane after what other gateways added to it meanwhile. A gateway that
 * never comes back keeps its journal on its disk, as its WAVs.
 *
 * The cost: one SQLite insert and one delete per event (tens of microseconds
 * each, in WAL mode), on the calling thread.
 */
import type { Logger } from '../../observability/index.js';
import type { SqliteDatabase } from '../../storage/index.js';
import type {
  LaneTurn,
  NewOutboxEntry,
  OutboxEntry,
  OutboxLane,
  SendOutcome,
  WebhookOutbox,
} from '../outbox.js';

export class JournaledOutbox implements WebhookOutbox {
  readonly shared: boolean;
  readonly #shared: WebhookOutbox;
  readonly #log: Logger;
  readonly #write;
  readonly #forget;
  #closed = false;

  constructor(journal: SqliteDatabase, shared: WebhookOutbox, logger: Logger) {
    this.#shared = shared;
    this.shared = shared.shared;
    this.#log = logger.child({ module: 'voicemail-outbox-journal' });
    this.#write = journal.prepare(
      `INSERT INTO vm_webhook_outbox (tenant, url, delivery, body, next_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.#forget = journal.prepare('DELETE FROM vm_webhook_outbox WHERE id = ?');
  }

  add(e: NewOutboxEntry): Promise<void> {
    const row = this.#write.run(e.tenant, e.url, e.delivery, e.body, e.at, e.at).lastInsertRowid;
    // Closing: the shared outbox takes no more; the journal keeps it for the next start.
    if (this.#closed) return Promise.resolve();
    return this.#shared.add(e).then(
      () => {
        try {
          this.#forget.run(row);
        } catch (error) {
          // PostgreSQL has it: moved again at the next start, kept once there (or sent again).
          this.#log.warn({ err: error, delivery: e.delivery }, 'journal row not deleted');
        }
      },
      (error: unknown) => {
        // Kept in the journal: moved into the shared outbox at the next start.
        this.#log.error(
          { err: error, delivery: e.delivery },
          'webhook event not in the shared outbox: kept in the journal for the next start',
        );
        throw error;
      },
    );
  }

  lanes(now: number): Promise<OutboxLane[]> {
    return this.#shared.lanes(now);
  }

  pending(): Promise<number> {
    return this.#shared.pending();
  }

  turn(
    lane: OutboxLane,
    now: number,
    send: (head: OutboxEntry) => Promise<SendOutcome>,
  ): Promise<LaneTurn> {
    return this.#shared.turn(lane, now, send);
  }

  close(): Promise<void> {
    this.#closed = true;
    return this.#shared.close();
  }
}
