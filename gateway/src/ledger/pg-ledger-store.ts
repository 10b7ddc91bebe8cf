import { ParleyError } from '@parley/shared/errors';
import { inTransaction, type PgClient, type PgPool } from '../storage/postgres/index.js';
import type { GuardedPostResult, PostGuard, SharedLedgerStore } from './ledger-store.js';
import { assertBalanced, samePostings } from './postings.js';
import { accountOf, type AccountRow, type TransactionRow } from './sqlite-ledger-store.js';
import type {
  AccountKind,
  LedgerAccount,
  LedgerProblem,
  LedgerTransaction,
  PostInput,
  PostResult,
} from './types.js';

/** A guard said no: thrown inside the transaction so it rolls back, answered as `refused`. */
class Refused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Deadlock and serialization failures: the transaction did nothing, and is run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 5;

const byAccount = (a: { account: string }, b: { account: string }) =>
  a.account < b.account ? -1 : a.account > b.account ? 1 : 0;

/**
 * The ledger in PostgreSQL, shared by every gateway of a cluster. A post is
 * one transaction: the key is inserted first (`ON CONFLICT DO NOTHING`: a
 * second gateway posting the same key waits for the first one's commit and
 * then finds it, so the key is written once, never read-then-written), then
 * each balance moves by a single `UPDATE … SET balance = balance + $1` in
 * account order (two posts never wait on each other in a cycle), with the
 * guard's floor as the UPDATE's condition: PostgreSQL re-reads a row locked by
 * another transaction before it applies the condition, so two gateways
 * charging one advertiser at once cannot both spend its last cents.
 */
export class PgLedgerStore implements SharedLedgerStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async openAccount(input: {
    id: string;
    tenant: string;
    kind: AccountKind;
    currency: string;
    at: number;
  }): Promise<LedgerAccount> {
    await this.#pool.query(
      `INSERT INTO ledger_accounts (id, tenant, kind, currency, balance, created_at)
       VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT (id) DO NOTHING`,
      [input.id, input.tenant, input.kind, input.currency, input.at],
    );
    const account = await this.account(input.id);
    if (!account) throw new Error(`ledger account ${input.id} could not be opened`);
    return account;
  }

  async account(id: string): Promise<LedgerAccount | undefined> {
    const { rows } = await this.#pool.query<AccountRow>(
      'SELECT * FROM ledger_accounts WHERE id = $1',
      [id],
    );
    return rows[0] ? accountOf(rows[0]) : undefined;
  }

  async post(input: PostInput): Promise<PostResult> {
    const result = await this.postGuarded(input, {});
    if ('refused' in result) throw new Error(`unguarded post refused: ${result.refused}`);
    return result;
  }

  async postGuarded(input: PostInput, guard: PostGuard): Promise<GuardedPostResult> {
    assertBalanced(input.postings);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await inTransaction(this.#pool, (client) => this.#post(client, input, guard));
      } catch (error) {
        if (error instanceof Refused) return { refused: error.reason };
        const code = (error as { code?: unknown }).code;
        if (attempt >= ATTEMPTS || typeof code !== 'string' || !RETRYABLE.has(code)) throw error;
      }
    }
  }

  async #post(client: PgClient, input: PostInput, guard: PostGuard): Promise<PostResult> {
    const inserted = await client.query<{ id: number }>(
      `INSERT INTO ledger_transactions (key, tenant, kind, memo, meta, reverses, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING RETURNING id`,
      [
        input.key,
        input.tenant,
        input.kind,
        input.memo ?? null,
        JSON.stringify(input.meta ?? {}),
        input.reverses ?? null,
        input.at,
      ],
    );
    const id = inserted.rows[0]?.id;
    if (id === undefined) {
      // The key's row is committed (a conflict waits for the other transaction's end).
      const existing = await this.#byKey(client, input.key);
      if (!existing) throw new Error(`ledger key ${input.key} conflicted but is not there`);
      if (!samePostings(existing.postings, input.postings))
        throw new ParleyError(
          'conflict',
          `ledger key ${input.key} was already posted with other amounts`,
          { expose: true },
        );
      return { transaction: existing, duplicate: true };
    }
    const currencies = new Set<string>();
    for (const p of [...input.postings].sort(byAccount)) {
      const floor = guard.floor?.account === p.account ? guard.floor : undefined;
      const moved = floor
        ? await client.query<{ currency: string }>(
            `UPDATE ledger_accounts SET balance = balance + $1
             WHERE id = $2 AND balance + $1 >= $3 RETURNING currency`,
            [p.amount, p.account, floor.min],
          )
        : await client.query<{ currency: string }>(
            'UPDATE ledger_accounts SET balance = balance + $1 WHERE id = $2 RETURNING currency',
            [p.amount, p.account],
          );
      const row = moved.rows[0];
      if (!row) {
        if (floor && (await this.#exists(client, p.account))) throw new Refused(floor.refusal);
        throw new Error(`no ledger account ${p.account}`);
      }
      currencies.add(row.currency);
    }
    if (currencies.size !== 1)
      throw new ParleyError('bad_request', 'a ledger transaction mixes currencies', {
        expose: true,
      });
    for (const [seq, p] of input.postings.entries()) {
      await client.query(
        'INSERT INTO ledger_postings (transaction_id, seq, account_id, amount) VALUES ($1, $2, $3, $4)',
        [id, seq, p.account, p.amount],
      );
    }
    for (const check of guard.checks ?? []) {
      const result = await client.query(check.sql, [...check.params]);
      if (!result.rowCount) throw new Refused(check.refusal);
    }
    for (const write of guard.writes ?? []) await client.query(write.sql, [...write.params]);
    const transaction = await this.#byId(client, id);
    if (!transaction) throw new Error('ledger transaction vanished');
    return { transaction, duplicate: false };
  }

  async #exists(client: PgClient, account: string): Promise<boolean> {
    const { rowCount } = await client.query('SELECT 1 FROM ledger_accounts WHERE id = $1', [
      account,
    ]);
    return (rowCount ?? 0) > 0;
  }

  transaction(key: string): Promise<LedgerTransaction | undefined> {
    return this.#byKey(this.#pool, key);
  }

  transactionById(id: number): Promise<LedgerTransaction | undefined> {
    return this.#byId(this.#pool, id);
  }

  async #byKey(db: PgPool | PgClient, key: string): Promise<LedgerTransaction | undefined> {
    const { rows } = await db.query<TransactionRow>(
      'SELECT * FROM ledger_transactions WHERE key = $1',
      [key],
    );
    return rows[0] ? this.#withPostings(db, rows[0]) : undefined;
  }

  async #byId(db: PgPool | PgClient, id: number): Promise<LedgerTransaction | undefined> {
    const { rows } = await db.query<TransactionRow>(
      'SELECT * FROM ledger_transactions WHERE id = $1',
      [id],
    );
    return rows[0] ? this.#withPostings(db, rows[0]) : undefined;
  }

  async list(filter: {
    account?: string;
    tenant?: string;
    limit: number;
    beforeId?: number;
  }): Promise<LedgerTransaction[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.account !== undefined) {
      params.push(filter.account);
      where.push(
        `id IN (SELECT transaction_id FROM ledger_postings WHERE account_id = $${params.length})`,
      );
    }
    if (filter.tenant !== undefined) {
      params.push(filter.tenant);
      where.push(`tenant = $${params.length}`);
    }
    if (filter.beforeId !== undefined) {
      params.push(filter.beforeId);
      where.push(`id < $${params.length}`);
    }
    params.push(filter.limit);
    const { rows } = await this.#pool.query<TransactionRow>(
      `SELECT * FROM ledger_transactions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return Promise.all(rows.map((row) => this.#withPostings(this.#pool, row)));
  }

  async reversedAmount(id: number, account: string): Promise<number> {
    const { rows } = await this.#pool.query<{ total: number | null }>(
      `SELECT SUM(p.amount)::BIGINT AS total FROM ledger_transactions t
       JOIN ledger_postings p ON p.transaction_id = t.id
       WHERE t.reverses = $1 AND p.account_id = $2`,
      [id, account],
    );
    return rows[0]?.total ?? 0;
  }

  async verify(): Promise<LedgerProblem[]> {
    const problems: LedgerProblem[] = [];
    const unbalanced = await this.#pool.query<{ id: number; total: number }>(
      `SELECT transaction_id AS id, SUM(amount)::BIGINT AS total FROM ledger_postings
       GROUP BY transaction_id HAVING SUM(amount) <> 0 OR COUNT(*) < 2`,
    );
    for (const row of unbalanced.rows)
      problems.push({
        kind: 'unbalanced_transaction',
        detail: `transaction ${row.id} sums to ${row.total}`,
      });
    const mismatched = await this.#pool.query<{ id: string; balance: number; total: number }>(
      `SELECT a.id, a.balance, COALESCE(SUM(p.amount), 0)::BIGINT AS total FROM ledger_accounts a
       LEFT JOIN ledger_postings p ON p.account_id = a.id
       GROUP BY a.id HAVING a.balance <> COALESCE(SUM(p.amount), 0)`,
    );
    for (const row of mismatched.rows)
      problems.push({
        kind: 'balance_mismatch',
        detail: `account ${row.id} keeps ${row.balance} but its postings sum to ${row.total}`,
      });
    const { rows } = await this.#pool.query<{ total: number | null }>(
      'SELECT SUM(balance)::BIGINT AS total FROM ledger_accounts',
    );
    const total = rows[0]?.total ?? 0;
    if (total !== 0) problems.push({ kind: 'nonzero_total', detail: `balances sum to ${total}` });
    return problems;
  }

  async #withPostings(db: PgPool | PgClient, row: TransactionRow): Promise<LedgerTransaction> {
    const { rows } = await db.query<{ account_id: string; amount: number }>(
      'SELECT account_id, amount FROM ledger_postings WHERE transaction_id = $1 ORDER BY seq',
      [row.id],
    );
    return {
      id: row.id,
      key: row.key,
      tenant: row.tenant,
      kind: row.kind,
      postings: rows.map((p) => ({ account: p.account_id, amount: p.amount })),
      memo: row.memo,
      meta: JSON.parse(row.meta) as Record<string, unknown>,
      reverses: row.reverses,
      createdAt: row.created_at,
    };
  }
}
