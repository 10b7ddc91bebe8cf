import { ParleyError } from '@parley/shared/errors';
import type { SchemaModule, SqliteDatabase } from '../storage/index.js';
import type { LedgerStore } from './ledger-store.js';
import { assertBalanced, samePostings } from './postings.js';
import type {
  AccountKind,
  LedgerAccount,
  LedgerProblem,
  LedgerTransaction,
  PostInput,
  PostResult,
  Posting,
} from './types.js';

/** The ledger's tables. Postings are append-only (triggers refuse updates and deletes). */
export const LEDGER_SCHEMA: SchemaModule = {
  name: 'ledger',
  migrations: [
    `
    CREATE TABLE ledger_accounts (
      id TEXT PRIMARY KEY,
      tenant TEXT NOT NULL,
      kind TEXT NOT NULL,
      currency TEXT NOT NULL,
      balance INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX ledger_accounts_tenant ON ledger_accounts(tenant, kind);
    CREATE TABLE ledger_transactions (
      id INTEGER PRIMARY KEY,
      key TEXT NOT NULL UNIQUE,
      tenant TEXT NOT NULL,
      kind TEXT NOT NULL,
      memo TEXT,
      meta TEXT NOT NULL DEFAULT '{}',
      reverses INTEGER REFERENCES ledger_transactions(id),
      created_at INTEGER NOT NULL
    );
    CREATE INDEX ledger_transactions_tenant ON ledger_transactions(tenant, id);
    CREATE INDEX ledger_transactions_reverses ON ledger_transactions(reverses) WHERE reverses IS NOT NULL;
    CREATE TABLE ledger_postings (
      transaction_id INTEGER NOT NULL REFERENCES ledger_transactions(id),
      account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
      amount INTEGER NOT NULL CHECK (amount <> 0),
      PRIMARY KEY (transaction_id, account_id)
    );
    CREATE INDEX ledger_postings_account ON ledger_postings(account_id, transaction_id);
    CREATE TRIGGER ledger_postings_append_only_update BEFORE UPDATE ON ledger_postings
      BEGIN SELECT RAISE(ABORT, 'ledger postings are append-only'); END;
    CREATE TRIGGER ledger_postings_append_only_delete BEFORE DELETE ON ledger_postings
      BEGIN SELECT RAISE(ABORT, 'ledger postings are append-only'); END;
    CREATE TRIGGER ledger_transactions_append_only_delete BEFORE DELETE ON ledger_transactions
      BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only'); END;
    `,
  ],
};

export interface AccountRow {
  id: string;
  tenant: string;
  kind: AccountKind;
  currency: string;
  balance: number;
  created_at: number;
}
export interface TransactionRow {
  id: number;
  key: string;
  tenant: string;
  kind: string;
  memo: string | null;
  meta: string;
  reverses: number | null;
  created_at: number;
}

export const accountOf = (r: AccountRow): LedgerAccount => ({
  id: r.id,
  tenant: r.tenant,
  kind: r.kind,
  currency: r.currency,
  balance: r.balance,
  createdAt: r.created_at,
});

/** The ledger in the gateway's SQLite file (tables of {@link LEDGER_SCHEMA}). */
export class SqliteLedgerStore implements LedgerStore {
  readonly #db: SqliteDatabase;
  readonly #s;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#s = {
      account: db.prepare<[string], AccountRow>('SELECT * FROM ledger_accounts WHERE id = ?'),
      openAccount: db.prepare(
        'INSERT INTO ledger_accounts (id, tenant, kind, currency, balance, created_at) VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (id) DO NOTHING',
      ),
      txByKey: db.prepare<[string], TransactionRow>(
        'SELECT * FROM ledger_transactions WHERE key = ?',
      ),
      txById: db.prepare<[number], TransactionRow>(
        'SELECT * FROM ledger_transactions WHERE id = ?',
      ),
      postings: db.prepare<[number], { account_id: string; amount: number }>(
        'SELECT account_id, amount FROM ledger_postings WHERE transaction_id = ? ORDER BY rowid',
      ),
      insertTx: db.prepare(
        'INSERT INTO ledger_transactions (key, tenant, kind, memo, meta, reverses, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      insertPosting: db.prepare(
        'INSERT INTO ledger_postings (transaction_id, account_id, amount) VALUES (?, ?, ?)',
      ),
      addBalance: db.prepare('UPDATE ledger_accounts SET balance = balance + ? WHERE id = ?'),
      reversed: db.prepare<[number, string], { total: number | null }>(
        `SELECT SUM(p.amount) AS total FROM ledger_transactions t
         JOIN ledger_postings p ON p.transaction_id = t.id
         WHERE t.reverses = ? AND p.account_id = ?`,
      ),
    };
  }

  openAccount(input: {
    id: string;
    tenant: string;
    kind: AccountKind;
    currency: string;
    at: number;
  }): LedgerAccount {
    this.#s.openAccount.run(input.id, input.tenant, input.kind, input.currency, input.at);
    const account = this.account(input.id);
    if (!account) throw new Error(`ledger account ${input.id} could not be opened`);
    return account;
  }

  account(id: string): LedgerAccount | undefined {
    const row = this.#s.account.get(id);
    return row ? accountOf(row) : undefined;
  }

  post(input: PostInput): PostResult {
    assertBalanced(input.postings);
    // IMMEDIATE: the write lock is taken before the duplicate check, so two
    // processes posting the same key cannot both see it missing. Nested in a
    // caller's transaction, better-sqlite3 makes this a savepoint instead.
    return this.#db
      .transaction((): PostResult => {
        const existing = this.transaction(input.key);
        if (existing) {
          if (!samePostings(existing.postings, input.postings)) {
            throw new ParleyError(
              'conflict',
              `ledger key ${input.key} was already posted with other amounts`,
              { expose: true },
            );
          }
          return { transaction: existing, duplicate: true };
        }
        const accounts = input.postings.map((p) => {
          const account = this.#s.account.get(p.account);
          if (!account) throw new Error(`no ledger account ${p.account}`);
          return account;
        });
        const currencies = new Set(accounts.map((a) => a.currency));
        if (currencies.size !== 1)
          throw new ParleyError('bad_request', 'a ledger transaction mixes currencies', {
            expose: true,
          });
        const id = Number(
          this.#s.insertTx.run(
            input.key,
            input.tenant,
            input.kind,
            input.memo ?? null,
            JSON.stringify(input.meta ?? {}),
            input.reverses ?? null,
            input.at,
          ).lastInsertRowid,
        );
        for (const p of input.postings) {
          this.#s.insertPosting.run(id, p.account, p.amount);
          this.#s.addBalance.run(p.amount, p.account);
        }
        const transaction = this.transactionById(id);
        if (!transaction) throw new Error('ledger transaction vanished');
        return { transaction, duplicate: false };
      })
      .immediate();
  }

  transaction(key: string): LedgerTransaction | undefined {
    const row = this.#s.txByKey.get(key);
    return row ? this.#withPostings(row) : undefined;
  }

  transactionById(id: number): LedgerTransaction | undefined {
    const row = this.#s.txById.get(id);
    return row ? this.#withPostings(row) : undefined;
  }

  list(filter: {
    account?: string;
    tenant?: string;
    limit: number;
    beforeId?: number;
  }): LedgerTransaction[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.account !== undefined) {
      where.push('id IN (SELECT transaction_id FROM ledger_postings WHERE account_id = ?)');
      params.push(filter.account);
    }
    if (filter.tenant !== undefined) {
      where.push('tenant = ?');
      params.push(filter.tenant);
    }
    if (filter.beforeId !== undefined) {
      where.push('id < ?');
      params.push(filter.beforeId);
    }
    const sql = `SELECT * FROM ledger_transactions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return this.#db
      .prepare<(string | number)[], TransactionRow>(sql)
      .all(...params, filter.limit)
      .map((row) => this.#withPostings(row));
  }

  reversedAmount(id: number, account: string): number {
    return this.#s.reversed.get(id, account)?.total ?? 0;
  }

  verify(): LedgerProblem[] {
    const problems: LedgerProblem[] = [];
    for (const row of this.#db
      .prepare<[], { id: number; total: number }>(
        'SELECT transaction_id AS id, SUM(amount) AS total FROM ledger_postings GROUP BY transaction_id HAVING SUM(amount) <> 0 OR COUNT(*) < 2',
      )
      .all()) {
      problems.push({
        kind: 'unbalanced_transaction',
        detail: `transaction ${row.id} sums to ${row.total}`,
      });
    }
    for (const row of this.#db
      .prepare<[], { id: string; balance: number; total: number }>(
        `SELECT a.id, a.balance, COALESCE(SUM(p.amount), 0) AS total FROM ledger_accounts a
         LEFT JOIN ledger_postings p ON p.account_id = a.id GROUP BY a.id HAVING a.balance <> total`,
      )
      .all()) {
      problems.push({
        kind: 'balance_mismatch',
        detail: `account ${row.id} keeps ${row.balance} but its postings sum to ${row.total}`,
      });
    }
    const total =
      this.#db
        .prepare<[], { total: number | null }>('SELECT SUM(balance) AS total FROM ledger_accounts')
        .get()?.total ?? 0;
    if (total !== 0) problems.push({ kind: 'nonzero_total', detail: `balances sum to ${total}` });
    return problems;
  }

  #withPostings(row: TransactionRow): LedgerTransaction {
    const postings: Posting[] = this.#s.postings
      .all(row.id)
      .map((p) => ({ account: p.account_id, amount: p.amount }));
    return {
      id: row.id,
      key: row.key,
      tenant: row.tenant,
      kind: row.kind,
      postings,
      memo: row.memo,
      meta: JSON.parse(row.meta) as Record<string, unknown>,
      reverses: row.reverses,
      createdAt: row.created_at,
    };
  }
}
