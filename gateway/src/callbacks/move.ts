/**
 * The callbacks kept in a gateway's SQLite file (`cb_callbacks`), as
 * `parley-gateway move` copies them into PostgreSQL
 * (`storage/postgres/sqlite-move.ts`) for a gateway going to `storage.kind:
 * postgres`: each keeps its id, token id, charge key and charge, so a
 * charged one is never charged again; this gateway is its `owner` (its
 * scheduler runs the scheduled ones, and its start ends the ones a stop
 * left live, as after any stop). `chargeTransactionId` names PostgreSQL's
 * transaction it was charged in, the ledger being moved first (its key is
 * the charge key; docs/callbacks.md).
 */
import type { SqliteDatabase } from '../storage/index.js';
import { refuseUnmoved, type MovedTable } from '../storage/postgres/index.js';

export function callbacksMoveTables(owner: string): readonly MovedTable[] {
  return [
    {
      table: 'cb_callbacks',
      columns: [
        'id',
        'tenant',
        'destination',
        'listing_id',
        'advertiser_id',
        'advertiser_name',
        'target',
        'phone',
        'caller_number',
        'session_id',
        'origin',
        'page',
        'impression_id',
        'token_id',
        'mode',
        'due_at',
        'expires_at',
        'state',
        'outcome',
        'code',
        'fee',
        'currency',
        'connected_at',
        'charged_at',
        'charge_key',
        'attempts',
        'dialogs',
        'ringing',
        'private_claims',
        'watch_hash',
        'created_at',
        'updated_at',
        'ended_at',
      ],
      key: ['id'],
      order: 'created_at, id',
      extra: { owner },
      // PostgreSQL's id of the charge's transaction (the ledger is moved first).
      derived: { charge_tx: '(SELECT id FROM ledger_transactions WHERE key = :charge_key)' },
    },
  ];
}

/**
 * On PostgreSQL, a file whose callbacks are not moved: started, the gateway
 * would list none of them, dial none of the scheduled ones, and take their
 * token ids as unused.
 */
export function refuseUnmovedCallbacks(db: SqliteDatabase): void {
  const row = db
    .prepare<[], { callbacks: number }>('SELECT count(*) AS callbacks FROM cb_callbacks')
    .get();
  refuseUnmoved(
    db,
    'callbacks',
    row ?? {},
    'scheduled callbacks never dialled, charged ones unlisted',
  );
}
