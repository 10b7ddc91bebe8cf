/**
 * The flow part of the call record: what each verb did (start, result or
 * error), which flows ran and why a source failed, the final transcripts and
 * the queue offers, in order (`seq`). Kept in its own table with its own
 * migrations (`SchemaModule`), behind an interface (PostgreSQL later). Live-only
 * events (partial transcripts, queue positions) are not stored: see
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
  ],
};

export interface FlowEventStore extends FlowEventSink {
  /** A call's stored events, in order. */
  list(callId: string): FlowEvent[];
}

const STORED = new Set<string>(STORED_FLOW_EVENTS);

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
    if (!STORED.has(event.type)) return;
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

  list(callId: string): FlowEvent[] {
    return this.#list.all(callId).map((row) => JSON.parse(row.body) as FlowEvent);
  }
}
