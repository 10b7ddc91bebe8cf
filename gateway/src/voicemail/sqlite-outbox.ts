/**
 * The webhook outbox in this gateway's SQLite file (the embedded default):
 * only this process delivers from it, so a lane is held by a mark in memory.
 * An entry is written synchronously by `add`, before anything is sent.
 */
import type { SqliteDatabase } from '../storage/index.js';
import {
  entryFromRow,
  laneKey,
  type LaneTurn,
  type NewOutboxEntry,
  type OutboxEntry,
  type OutboxLane,
  type OutboxRow,
  type SendOutcome,
  type WebhookOutbox,
} from './outbox.js';

export class SqliteWebhookOutbox implements WebhookOutbox {
  readonly shared = false;
  readonly #db: SqliteDatabase;
  /** The lanes a turn holds now. */
  readonly #held = new Set<string>();
  #closed = false;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  add(e: NewOutboxEntry): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#db
      .prepare(
        `INSERT INTO vm_webhook_outbox (tenant, url, delivery, body, next_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(e.tenant, e.url, e.delivery, e.body, e.at, e.at);
    return Promise.resolve();
  }

  lanes(): Promise<OutboxLane[]> {
    return Promise.resolve(
      this.#db.prepare('SELECT DISTINCT tenant, url FROM vm_webhook_outbox').all() as OutboxLane[],
    );
  }

  pending(): Promise<number> {
    const row = this.#db.prepare('SELECT count(*) AS n FROM vm_webhook_outbox').get() as {
      n: number;
    };
    return Promise.resolve(row.n);
  }

  async turn(
    lane: OutboxLane,
    now: number,
    send: (head: OutboxEntry) => Promise<SendOutcome>,
  ): Promise<LaneTurn> {
    const key = laneKey(lane);
    if (this.#held.has(key)) return { kind: 'busy' };
    this.#held.add(key);
    try {
      const row = this.#db
        .prepare('SELECT * FROM vm_webhook_outbox WHERE tenant = ? AND url = ? ORDER BY id LIMIT 1')
        .get(lane.tenant, lane.url) as OutboxRow | undefined;
      if (!row) return { kind: 'empty' };
      if (row.next_at > now) return { kind: 'wait', at: row.next_at };
      const outcome = await send(entryFromRow(row));
      if (outcome?.sent === true)
        this.#db.prepare('DELETE FROM vm_webhook_outbox WHERE id = ?').run(row.id);
      else if (outcome)
        this.#db
          .prepare(
            `UPDATE vm_webhook_outbox SET attempts = attempts + 1, next_at = ?, last_error = ?
             WHERE id = ?`,
          )
          .run(outcome.retryAt, outcome.error, row.id);
      return { kind: 'sent' };
    } finally {
      this.#held.delete(key);
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
