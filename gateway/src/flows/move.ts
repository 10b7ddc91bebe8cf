/**
 * The flows' stored events kept in a gateway's SQLite file (`flow_events`,
 * written there on SQLite), as `parley-gateway move` copies them into
 * PostgreSQL (`storage/postgres/sqlite-move.ts`), module `flows`, keyed by
 * `(call_id, seq)`. The journal of events not yet written to PostgreSQL
 * (`flow_events_journal`) is not copied here: the start moves it.
 */
import type { SqliteDatabase } from '../storage/index.js';
import { refuseUnmoved, type MovedTable } from '../storage/postgres/index.js';

export function flowsMoveTables(): readonly MovedTable[] {
  return [
    {
      table: 'flow_events',
      columns: ['call_id', 'seq', 'at', 'type', 'flow', 'verb', 'body'],
      key: ['call_id', 'seq'],
      order: 'at, call_id, seq',
    },
  ];
}

/** On PostgreSQL, a file whose flow events are not moved: the calls' flow history would be empty. */
export function refuseUnmovedFlows(db: SqliteDatabase): void {
  const row = db
    .prepare<[], { events: number }>('SELECT count(*) AS events FROM flow_events')
    .get();
  refuseUnmoved(db, 'flows', row ?? {}, "the calls' flow events read as none");
}
