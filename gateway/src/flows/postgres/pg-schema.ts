/**
 * The flow events in PostgreSQL (module `flows` in `schema_migrations`),
 * shared by every gateway of a cluster. Columns and kinds follow SQLite's
 * (`../flow-event-store.ts`: the event as JSON TEXT, epoch milliseconds as
 * BIGINT), so both stores read rows the same way. Never edit a released
 * migration; add the next.
 */
export const FLOW_PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE flow_events (
    call_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at BIGINT NOT NULL,
    type TEXT NOT NULL,
    flow TEXT NOT NULL,
    verb TEXT,
    body TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
  );
  CREATE INDEX flow_events_at ON flow_events(at);
  `,
];
