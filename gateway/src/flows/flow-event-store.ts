/**
 * The flow part of the call record: what each verb did (start, result or
 * error), which flows ran and why a source failed, the final transcripts and
 * the queue offers, in order (`seq`). Kept in its own table with its own
 * migrations: in the gateway's SQLite file (`SchemaModule`), or with
 * `storage.kind: postgres` in the cluster's database, where any gateway reads
 * what another wrote (`postgres/pg-flow-event-store.ts`; the SQLite file then
 * holds the events not in PostgreSQL yet, `postgres/flow-event-journal.ts`). Live-only events
 * (partial transcripts, queue positions) are not stored: see
 * `STORED_FLOW_EVENTS`.
 */
import { STORED_FLOW_EVENTS, type FlowEvent } from '@parley/shared/protocol';
import type { SchemaModule, SqliteDatabase } from '../storage/index.js';
import type { FlowEventSink } from './events.js';

export const FLOW_SCHEMA: SchemaModule = {
  name: 'flows',
  migrations: [
    `CREATE TABLE flow_events (
       call_id TEXT NOT NULL,
       seq INTEGER NOT NULL,
       at INTEGER NOT NULL,
       type TEXT NOT NULL,
       flow TEXT NOT NULL,
       verb TEXT,
       body TEXT NOT NULL,
       PRIMARY KEY (call_id, seq)
     ) WITHOUT ROWID;
     CREATE INDEX flow_events_at ON flow_events (at);`,
    // With `storage.kind: postgres`, the events not yet in PostgreSQL (`postgres/flow-event-journal.ts`).
    `CREATE TABLE flow_events_journal (
       id INTEGER PRIMARY KEY,
       call_id TEXT NOT NULL,
       seq INTEGER NOT NULL,
       body TEXT NOT NULL,
       UNIQUE (call_id, seq)
     );`,
  ],
};

/**
 * `event` (the sink) never throws nor waits: the runner calls it between
 * verbs. A store that writes later keeps each call's order and logs what it
 * could not write.
 */
export interface FlowEventStore extends FlowEventSink {
  /** A call's stored events, in order (this gateway's writes queued so far included). */
  list(callId: string): Promise<FlowEvent[]>;
  /** Resolves once every event handed over so far is written (or given up): before the database closes. */
  idle(): Promise<void>;
}

const STORED = new Set<string>(STORED_FLOW_EVENTS);

/** Whether the call record keeps this event (`STORED_FLOW_EVENTS`). */
export function storedFlowEvent(event: FlowEvent): boolean {
  return STORED.has(event.type);
}

export class SqliteFlowEventStore implements FlowEventStore {
  readonly #insert;
  readonly #list;

  constructor(db: SqliteDatabase) {
    // (call_id, seq) is the key: the same event written twice is stored once.
    this.#insert = db.prepare(
      'INSERT OR IGNORE INTO flow_events (call_id, seq, at, type, flow, verb, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#list = db.prepare<[string], { body: string }>(
      'SELECT body FROM flow_events WHERE call_id = ? ORDER BY seq',
    );
  }

  event(event: FlowEvent): void {
    if (!storedFlowEvent(event)) return;
    this.#insert.run(
      event.callId,
      event.seq,
      Date.parse(event.at),
      event.type,
      event.flow,
      'verb' in event ? event.verb : null,
      JSON.stringify(event),
    );
  }

  list(callId: string): Promise<FlowEvent[]> {
    return Promise.resolve(this.#list.all(callId).map((row) => JSON.parse(row.body) as FlowEvent));
  }

  /** Each write is done when `event` returns. */
  idle(): Promise<void> {
    return Promise.resolve();
  }
}
