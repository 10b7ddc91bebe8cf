/**
 * The ledger kept in a gateway's SQLite file, as `parley-gateway move`
 * copies it into PostgreSQL (`storage/postgres/sqlite-move.ts`), module
 * `ledger`, before the marketplace and the callbacks. The accounts that have
 * postings keep their ids and balances (the file's empty ones, which a
 * directory opens on any gateway, are not copied). A transaction is known by
 * its key (the one guard against a double charge): PostgreSQL gives it its
 * own id (another gateway's may hold the file's), its postings follow in the
 * file's order, a reversal names the new id of what it reverses. A key
 * PostgreSQL already holds with the same tenant, kind, memo, meta, time,
 * reversal and postings is there (a second run): money lands exactly once;
 * held different, it is counted in the module's conflicts (the ledger is
 * refused with `store_move_conflict`, naming its keys; nothing overwritten). The callbacks charged in the file
 * then name PostgreSQL's transaction (`charge_tx`, looked up by their charge
 * key): those moved before the ledger named the file's id.
 */
import type { SqliteDatabase } from '../storage/index.js';
import type { TransactionRow } from './sqlite-ledger-store.js';
import {
  PROGRESS_EVERY,
  refuseUnmoved,
  type MoveConflicts,
  type MovedTable,
  type MoveProgress,
  type MoveStep,
  type PgClient,
  type TableMoved,
} from '../storage/postgres/index.js';

interface PostingRow {
  account_id: string;
  amount: number;
}

const postingsText = (ps: readonly PostingRow[]) =>
  ps.map((p) => `${p.account_id}:${String(p.amount)}`).join(',');

async function moveTransactions(
  client: PgClient,
  db: SqliteDatabase,
  progress: MoveProgress,
  conflicts: MoveConflicts,
): Promise<readonly TableMoved[]> {
  const total =
    db.prepare<[], { n: number }>('SELECT count(*) AS n FROM ledger_transactions').get()?.n ?? 0;
  const postingsOf = db.prepare<[number], PostingRow>(
    'SELECT account_id, amount FROM ledger_postings WHERE transaction_id = ? ORDER BY rowid',
  );
  const ids = new Map<number, number>();
  const moved = { copied: 0, present: 0, postings: 0, postingsPresent: 0 };
  let seen = 0;
  const txs = db
    .prepare<[], TransactionRow>(
      'SELECT id, key, tenant, kind, memo, meta, reverses, created_at FROM ledger_transactions ORDER BY id',
    )
    .all();
  for (const tx of txs) {
    const postings = postingsOf.all(tx.id);
    const reverses = tx.reverses === null ? null : (ids.get(tx.reverses) ?? null);
    const held = await client.query<Omit<TransactionRow, 'key'>>(
      'SELECT id, tenant, kind, memo, meta, reverses, created_at FROM ledger_transactions WHERE key = $1',
      [tx.key],
    );
    const there = held.rows[0];
    if (there) {
      const theirs = await client.query<PostingRow>(
        'SELECT account_id, amount FROM ledger_postings WHERE transaction_id = $1 ORDER BY seq',
        [there.id],
      );
      const equal =
        there.tenant === tx.tenant &&
        there.kind === tx.kind &&
        there.memo === tx.memo &&
        there.meta === tx.meta &&
        there.created_at === tx.created_at &&
        there.reverses === reverses &&
        postingsText(theirs.rows) === postingsText(postings);
      ids.set(tx.id, there.id);
      if (!equal) conflicts.add('ledger_transactions', ['key'], { key: tx.key });
      else {
        moved.present += 1;
        moved.postingsPresent += postings.length;
      }
    } else {
      const inserted = await client.query<{ id: number }>(
        `INSERT INTO ledger_transactions (key, tenant, kind, memo, meta, reverses, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
        [tx.key, tx.tenant, tx.kind, tx.memo, tx.meta, reverses, tx.created_at],
      );
      const id = inserted.rows[0]?.id;
      if (id === undefined) throw new Error('ledger transaction inserted without an id');
      ids.set(tx.id, id);
      if (postings.length > 0)
        await client.query(
          `INSERT INTO ledger_postings (transaction_id, seq, account_id, amount) VALUES ${postings
            .map((_, i) => `($1, ${i}, $${2 * i + 2}, $${2 * i + 3})`)
            .join(', ')}`,
          [id, ...postings.flatMap((p) => [p.account_id, p.amount])],
        );
      moved.copied += 1;
      moved.postings += postings.length;
    }
    seen += 1;
    if (total > PROGRESS_EVERY && seen % PROGRESS_EVERY === 0)
      progress(`ledger_transactions: ${seen} of ${total} rows`);
  }
  // The callbacks charged in the file name PostgreSQL's transaction from now on.
  const charged = db
    .prepare<[], { id: string }>('SELECT id FROM cb_callbacks WHERE charge_key IS NOT NULL')
    .all()
    .map((r) => r.id);
  if (charged.length > 0)
    await client.query(
      `UPDATE cb_callbacks c SET charge_tx = t.id FROM ledger_transactions t
       WHERE c.id = ANY($1) AND t.key = c.charge_key AND c.charge_tx IS DISTINCT FROM t.id`,
      [charged],
    );
  return [
    { table: 'ledger_transactions', copied: moved.copied, present: moved.present },
    { table: 'ledger_postings', copied: moved.postings, present: moved.postingsPresent },
  ];
}

export function ledgerMoveTables(): readonly (MovedTable | MoveStep)[] {
  return [
    {
      table: 'ledger_accounts',
      columns: ['id', 'tenant', 'kind', 'currency', 'balance', 'created_at'],
      from: `SELECT id, tenant, kind, currency, balance, created_at FROM ledger_accounts a
             WHERE EXISTS (SELECT 1 FROM ledger_postings p WHERE p.account_id = a.id)
             ORDER BY created_at, id`,
      source: 'ledger_accounts',
      key: ['id'],
      order: 'created_at, id',
    },
    {
      step: 'ledger_transactions',
      sources: ['ledger_transactions', 'ledger_postings'],
      run: moveTransactions,
    },
  ];
}

/**
 * On PostgreSQL, a file whose ledger is not moved: started, the gateway
 * would read every balance made on SQLite as 0 and take every charge key
 * used there as unused (a deposit, a charge counted again).
 */
export function refuseUnmovedLedger(db: SqliteDatabase): void {
  const row = db
    .prepare<[], { transactions: number }>(
      'SELECT count(*) AS transactions FROM ledger_transactions',
    )
    .get();
  refuseUnmoved(db, 'ledger', row ?? {}, 'balances read as 0, charge keys free to count again');
}
