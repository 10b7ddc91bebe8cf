/**
 * Moves the webhook events a gateway's SQLite file still holds into the
 * shared outbox in PostgreSQL, at start (`wire.ts`), and while it runs what
 * the journal kept past its inserts' retries (`JournalMover`): the journal's
 * entries a stop left before PostgreSQL had them (`journaled-outbox.ts`),
 * and the outbox a gateway already on `storage.kind: postgres` kept in
 * SQLite before the outbox was shared.
 *
 * The rows are inserted in their order (so each lane keeps it, behind what
 * the shared outbox already holds), in one transaction, with their attempts
 * and retry times; then deleted from SQLite. A start that stops between the
 * two inserts them again: `ON CONFLICT (delivery) DO NOTHING` keeps one. A
 * row older than the delivery column gets `<instanceId>:<id>` as its id
 * (its row id alone repeats across gateways). A row PostgreSQL refuses for
 * good is logged with its body and dropped; a transient failure (the server
 * away) moves nothing and the next start tries again.
 */
import type { Logger } from '../../observability/index.js';
import type { SqliteDatabase } from '../../storage/index.js';
import { transientPgError, withHeldClient, type PgPool } from '../../storage/postgres/index.js';

interface SqliteOutboxRow {
  id: number;
  tenant: string;
  url: string;
  delivery: string | null;
  body: string;
  attempts: number;
  next_at: number;
  last_error: string | null;
  created_at: number;
}

/** Resolves to how many rows moved. */
export async function moveSqliteOutbox(
  db: SqliteDatabase,
  pool: PgPool,
  instanceId: string,
  logger?: Logger,
  /** Only rows up to this id (the running gateway's mover, `JournalMover`); all at start. */
  upTo: number = Number.MAX_SAFE_INTEGER,
): Promise<number> {
  const rows = db
    .prepare(
      `SELECT id, tenant, url, delivery, body, attempts, next_at, last_error, created_at
       FROM vm_webhook_outbox WHERE id <= ? ORDER BY id`,
    )
    .all(upTo) as SqliteOutboxRow[];
  if (rows.length === 0) return 0;
  await withHeldClient(pool, async (client) => {
    await client.query('BEGIN');
    try {
      // One at a time: the ids PostgreSQL gives follow the SQLite order.
      for (const r of rows) {
        // Each row behind a savepoint: one PostgreSQL refuses for good (say a NUL in its body)
        // is logged and dropped, not left to fail every start's move and hold the rest back.
        await client.query('SAVEPOINT moving');
        try {
          await client.query(
            `INSERT INTO vm_webhook_outbox
               (tenant, url, delivery, body, attempts, next_at, last_error, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (delivery) DO NOTHING`,
            [
              r.tenant,
              r.url,
              r.delivery ?? `${instanceId}:${r.id}`,
              r.body,
              r.attempts,
              r.next_at,
              r.last_error,
              r.created_at,
            ],
          );
        } catch (error) {
          if (transientPgError(error)) throw error;
          await client.query('ROLLBACK TO SAVEPOINT moving');
          logger?.error(
            { err: error, tenant: r.tenant, delivery: r.delivery, body: r.body },
            'voicemail webhook event refused by PostgreSQL: dropped',
          );
        }
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
  const last = rows[rows.length - 1]!.id;
  db.prepare('DELETE FROM vm_webhook_outbox WHERE id <= ?').run(last);
  return rows.length;
}

/** The SQLite outbox's newest row id (0 when empty): the mover's mark. */
export function newestOutboxRow(db: SqliteDatabase): number {
  const row = db
    .prepare<[], { id: number | null }>('SELECT max(id) AS id FROM vm_webhook_outbox')
    .get();
  return row?.id ?? 0;
}
