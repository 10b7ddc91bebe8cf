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
import {
  refuseUnmoved,
  type MovedTable,
  type MoveStep,
  type TableMoved,
} from '../storage/postgres/index.js';

/**
 * A callback whose fee the file's ledger posted (under its charge key) and
 * whose `charged_at` a crash left unset: the SQLite gateway's start would
 * mark it charged, the posting found by key. The move does the same in the
 * file (in its SQLite transaction), from the posted transaction, before the
 * rows are copied, so PostgreSQL's start finds it charged and never posts
 * it again, and a later run compares it equal.
 */
function chargesPosted(db: SqliteDatabase): readonly TableMoved[] {
  const { changes } = db
    .prepare(
      `UPDATE cb_callbacks SET
         charged_at = (SELECT t.created_at FROM ledger_transactions t WHERE t.key = 'callback:' || cb_callbacks.id),
         charge_key = 'callback:' || id,
         charge_tx = (SELECT t.id FROM ledger_transactions t WHERE t.key = 'callback:' || cb_callbacks.id)
       WHERE charged_at IS NULL AND connected_at IS NOT NULL
         AND EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.key = 'callback:' || cb_callbacks.id)`,
    )
    .run();
  return changes > 0
    ? [{ table: 'cb_callbacks charged from their posting', copied: Number(changes), present: 0 }]
    : [];
}

export function callbacksMoveTables(owner: string): readonly (MovedTable | MoveStep)[] {
  return [
    { step: 'cb_charges', sources: [], run: (_client, db) => Promise.resolve(chargesPosted(db)) },
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
