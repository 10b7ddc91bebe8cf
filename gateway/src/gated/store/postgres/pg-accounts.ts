/**
 * The accounts, their phones and their approvals in PostgreSQL (`storage.kind:
 * postgres`), shared by every gateway of a cluster. The balance is never
 * written here: only credits and charges move it (`pg-billing.ts`).
 */
import { inTransaction, type PgClient, type PgPool } from '../../../storage/postgres/index.js';
import type { AccountPhone, Approval, Page, StoredAccount } from '../../types.js';
import type { AccountStore, ListOptions } from '../store.js';
import { accountFromRow, approvalFromRow, type AccountRow, type ApprovalRow } from '../rows.js';

interface AccountWithPhones extends AccountRow {
  /** The account's phones as `[number, verified_at]` pairs, in number order. */
  phones: [string, number | null][] | null;
}

/** An account with its phones in one statement (json_agg gives verified_at as a JSON number). */
const SELECT = `SELECT a.*, (SELECT json_agg(json_build_array(p.number, p.verified_at) ORDER BY p.number)
    FROM gated_account_phones p WHERE p.tenant = a.tenant AND p.account_id = a.id) AS phones
  FROM gated_accounts a`;

const fromRow = (row: AccountWithPhones): StoredAccount =>
  accountFromRow(
    row,
    (row.phones ?? []).map(([number, verifiedAt]): AccountPhone => ({ number, verifiedAt })),
  );

export class PgAccountStore implements AccountStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async #one(where: string, params: unknown[]): Promise<StoredAccount | undefined> {
    const { rows } = await this.#pool.query<AccountWithPhones>(`${SELECT} WHERE ${where}`, params);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  get(tenant: string, id: string): Promise<StoredAccount | undefined> {
    return this.#one('a.tenant = $1 AND a.id = $2', [tenant, id]);
  }

  byNumber(tenant: string, number: string): Promise<StoredAccount | undefined> {
    return this.#one('a.tenant = $1 AND a.number = $2', [tenant, number]);
  }

  byVerifiedPhone(tenant: string, e164: string): Promise<StoredAccount | undefined> {
    return this.#one(
      `(a.tenant, a.id) = (SELECT tenant, account_id FROM gated_account_phones
         WHERE tenant = $1 AND number = $2 AND verified_at IS NOT NULL)`,
      [tenant, e164],
    );
  }

  byWebLogin(tenant: string, login: string): Promise<StoredAccount | undefined> {
    return this.#one('a.tenant = $1 AND a.web_login = $2', [tenant, login]);
  }

  async list(tenant: string, options: ListOptions): Promise<Page<StoredAccount>> {
    const { rows } = await this.#pool.query<AccountWithPhones>(
      `${SELECT} WHERE a.tenant = $1 AND ($2::text IS NULL OR a.id > $2) ORDER BY a.id LIMIT $3`,
      [tenant, options.after ?? null, options.limit + 1],
    );
    const items = rows.slice(0, options.limit).map(fromRow);
    return { items, next: rows.length > options.limit ? (items.at(-1)?.id ?? null) : null };
  }

  async insert(a: StoredAccount): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      await client.query(
        `INSERT INTO gated_accounts (tenant, id, number, name, web_login, pin_hash, rate_per_minute,
           balance, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10)`,
        [
          a.tenant,
          a.id,
          a.number,
          a.name,
          a.webLogin,
          a.pinHash,
          a.ratePerMinute,
          a.status,
          a.createdAt,
          a.updatedAt,
        ],
      );
      await setPhones(client, a);
    });
  }

  async update(a: StoredAccount): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      await client.query(
        `UPDATE gated_accounts SET name = $3, web_login = $4, pin_hash = $5, rate_per_minute = $6,
           status = $7, updated_at = $8
         WHERE tenant = $1 AND id = $2`,
        [a.tenant, a.id, a.name, a.webLogin, a.pinHash, a.ratePerMinute, a.status, a.updatedAt],
      );
      await setPhones(client, a);
    });
  }

  async phoneHolder(tenant: string, e164: string, exceptId?: string): Promise<string | undefined> {
    const { rows } = await this.#pool.query<{ account_id: string }>(
      'SELECT account_id FROM gated_account_phones WHERE tenant = $1 AND number = $2',
      [tenant, e164],
    );
    const holder = rows[0]?.account_id;
    return holder === undefined || holder === exceptId ? undefined : holder;
  }

  async approvals(tenant: string, accountId: string): Promise<Approval[]> {
    const { rows } = await this.#pool.query<ApprovalRow>(
      'SELECT * FROM gated_account_residents WHERE tenant = $1 AND account_id = $2 ORDER BY resident_id',
      [tenant, accountId],
    );
    return rows.map(approvalFromRow);
  }

  async approval(
    tenant: string,
    accountId: string,
    residentId: string,
  ): Promise<Approval | undefined> {
    const { rows } = await this.#pool.query<ApprovalRow>(
      'SELECT * FROM gated_account_residents WHERE tenant = $1 AND account_id = $2 AND resident_id = $3',
      [tenant, accountId, residentId],
    );
    return rows[0] ? approvalFromRow(rows[0]) : undefined;
  }

  async setApproval(a: Approval): Promise<void> {
    await this.#pool.query(
      `INSERT INTO gated_account_residents (tenant, account_id, resident_id, status, decided_at, decided_by)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant, account_id, resident_id) DO UPDATE SET status = excluded.status,
         decided_at = excluded.decided_at, decided_by = excluded.decided_by`,
      [a.tenant, a.accountId, a.residentId, a.status, a.decidedAt, a.decidedBy],
    );
  }

  async deleteApproval(tenant: string, accountId: string, residentId: string): Promise<boolean> {
    const result = await this.#pool.query(
      'DELETE FROM gated_account_residents WHERE tenant = $1 AND account_id = $2 AND resident_id = $3',
      [tenant, accountId, residentId],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async deleteResidentApprovals(tenant: string, residentId: string): Promise<void> {
    await this.#pool.query(
      'DELETE FROM gated_account_residents WHERE tenant = $1 AND resident_id = $2',
      [tenant, residentId],
    );
  }
}

async function setPhones(client: PgClient, a: StoredAccount): Promise<void> {
  await client.query('DELETE FROM gated_account_phones WHERE tenant = $1 AND account_id = $2', [
    a.tenant,
    a.id,
  ]);
  for (const phone of a.phones)
    await client.query(
      'INSERT INTO gated_account_phones (tenant, account_id, number, verified_at) VALUES ($1, $2, $3, $4)',
      [a.tenant, a.id, phone.number, phone.verifiedAt],
    );
}
