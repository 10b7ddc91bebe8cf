/**
 * The flow events PostgreSQL does not have yet, in this gateway's SQLite file
 * (`flow_events_journal`), so that a stored event is on disk when the
 * runner's `event` returns, as it is with the SQLite store: the insert into
 * PostgreSQL comes after (`pg-flow-event-store.ts`, behind the call's queue,
 * tried again while the database is away), and a gateway killed before it
 * committed lost the event. Now the store writes each event here first,
 * synchronously, and deletes it once PostgreSQL has it; what a stop left
 * (killed, or PostgreSQL away past the retries) is moved into PostgreSQL at
 * the next start, before the gateway serves (`wiring/stores.ts`), as the
 * voicemail webhook journal is (`voicemail/postgres/journaled-outbox.ts`);
 * what PostgreSQL refused past the store's retries while the gateway runs is
 * moved by `JournalMover` every 30 s (`storage/postgres/journal-mover.ts`).
 *
 * The move inserts in the journal's order with the store's own statement:
 * `(call_id, seq)` and `ON CONFLICT DO NOTHING` keep one of an event that
 * had committed before the stop (its journal row not deleted yet), and one
 * of what a move stopped before its delete inserts again. A gateway that
 * never comes back keeps its journal on its disk, as its recordings.
 *
 * The cost: one SQLite insert per stored event and one delete per insert
 * into PostgreSQL (tens of microseconds each, in WAL mode), on the calling
 * thread.
 */
import type { FlowEvent } from '@parley/shared/protocol';
import type { Logger } from '../../observability/index.js';
import type { SqliteDatabase } from '../../storage/index.js';
import { transientPgError, type PgPool } from '../../storage/postgres/index.js';
import { insertFlowEvents } from './pg-flow-event-store.js';

/** Events moved per statement at start: a long outage's journal is not one huge insert. */
const MOVE_CHUNK = 500;

export class FlowEventJournal {
  readonly #write;
  readonly #forget;
  readonly #forgetAll;

  constructor(db: SqliteDatabase) {
    // The same event handed over twice is journalled once.
    this.#write = db.prepare(
      'INSERT OR IGNORE INTO flow_events_journal (call_id, seq, body) VALUES (?, ?, ?)',
    );
    this.#forget = db.prepare('DELETE FROM flow_events_journal WHERE call_id = ? AND seq = ?');
    this.#forgetAll = db.transaction((events: readonly FlowEvent[]) => {
      for (const e of events) this.#forget.run(e.callId, e.seq);
    });
  }

  /** On disk when it returns. */
  write(event: FlowEvent): void {
    this.#write.run(event.callId, event.seq, JSON.stringify(event));
  }

  /** PostgreSQL has them: one transaction. */
  forget(events: readonly FlowEvent[]): void {
    this.#forgetAll(events);
  }
}

/**
 * Moves what the journal holds into PostgreSQL, in its order; resolves to how
 * many events. A transient failure (the server away) throws: the rest waits
 * for the next start. A chunk PostgreSQL refuses for good is moved event by
 * event, and an event it refuses on its own (one it can never store, such as
 * a NUL in a webhook's flow name) is logged with its body and dropped, so it
 * cannot hold back every event after it at every start.
 */
export async function moveFlowEventJournal(
  db: SqliteDatabase,
  pool: PgPool,
  logger?: Logger,
  /** Only rows up to this id (the running gateway's mover, `JournalMover`); all at start. */
  upTo: number = Number.MAX_SAFE_INTEGER,
): Promise<number> {
  const next = db.prepare<[number, number, number], { id: number; body: string }>(
    'SELECT id, body FROM flow_events_journal WHERE id > ? AND id <= ? ORDER BY id LIMIT ?',
  );
  const done = db.prepare('DELETE FROM flow_events_journal WHERE id <= ?');
  let moved = 0;
  for (let after = 0; ;) {
    const rows = next.all(after, upTo, MOVE_CHUNK);
    const last = rows.at(-1);
    if (last === undefined) return moved;
    try {
      await insertFlowEvents(pool, rows.map(eventOf));
    } catch (err) {
      if (transientPgError(err)) throw err;
      for (const row of rows) {
        await insertFlowEvents(pool, [eventOf(row)]).catch((one: unknown) => {
          if (transientPgError(one)) throw one;
          logger?.error({ err: one, body: row.body }, 'flow event refused by PostgreSQL: dropped');
        });
        done.run(row.id);
      }
    }
    done.run(last.id);
    moved += rows.length;
    after = last.id;
  }
}

/** The journal's newest row id (0 when empty): the mover's mark. */
export function newestFlowEventJournalRow(db: SqliteDatabase): number {
  const row = db
    .prepare<[], { id: number | null }>('SELECT max(id) AS id FROM flow_events_journal')
    .get();
  return row?.id ?? 0;
}

const eventOf = (row: { readonly body: string }): FlowEvent => JSON.parse(row.body) as FlowEvent;
