import type { SqliteDatabase } from '../../storage/index.js';
import type { AccountPhone, Approval, Page, StoredAccount } from '../types.js';
import type { AccountStore, ListOptions } from './store.js';
import { accountFromRow, approvalFromRow, type AccountRow, type ApprovalRow } from './rows.js';

export class SqliteAccountStore implements AccountStore {
  readonly #db: SqliteDatabase;
  readonly #get;
  readonly #byNumber;
  readonly #byVerifiedPhone;
  readonly #byWebLogin;
  readonly #list;
  readonly #listAfter;
  readonly #phones;
  readonly #insert;
  readonly #update;
  readonly #clearPhones;
  readonly #addPhone;
  readonly #phoneHolder;
  readonly #approvals;
  readonly #approval;
  readonly #setApproval;
  readonly #deleteApproval;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#get = db.prepare<[string, string], AccountRow>(
      'SELECT * FROM gated_accounts WHERE tenant = ? AND id = ?',
    );
    this.#byNumber = db.prepare<[string, string], AccountRow>(
      'SELECT * FROM gated_accounts WHERE tenant = ? AND number = ?',
    );
    this.#byVerifiedPhone = db.prepare<[string, string], AccountRow>(
      `SELECT a.* FROM gated_account_phones p
       JOIN gated_accounts a ON a.tenant = p.tenant AND a.id = p.account_id
       WHERE p.tenant = ? AND p.number = ? AND p.verified_at IS NOT NULL`,
    );
    this.#byWebLogin = db.prepare<[string, string], AccountRow>(
      'SELECT * FROM gated_accounts WHERE tenant = ? AND web_login = ?',
    );
    this.#list = db.prepare<[string, number], AccountRow>(
      'SELECT * FROM gated_accounts WHERE tenant = ? ORDER BY id LIMIT ?',
    );
    this.#listAfter = db.prepare<[string, string, number], AccountRow>(
      'SELECT * FROM gated_accounts WHERE tenant = ? AND id > ? ORDER BY id LIMIT ?',
    );
    this.#phones = db.prepare<[string, string], { number: string; verified_at: number | null }>(
      'SELECT number, verified_at FROM gated_account_phones WHERE tenant = ? AND account_id = ? ORDER BY number',
    );
    this.#insert = db.prepare(
      `INSERT INTO gated_accounts (tenant, id, number, name, web_login, pin_hash, rate_per_minute,
         balance, status, created_at, updated_at)
       VALUES (@tenant, @id, @number, @name, @web_login, @pin_hash, @rate_per_minute, 0, @status,
         @created_at, @updated_at)`,
    );
    this.#update = db.prepare(
      `UPDATE gated_accounts SET name = @name, web_login = @web_login, pin_hash = @pin_hash,
         rate_per_minute = @rate_per_minute, status = @status, updated_at = @updated_at
       WHERE tenant = @tenant AND id = @id`,
    );
    this.#clearPhones = db.prepare(
      'DELETE FROM gated_account_phones WHERE tenant = ? AND account_id = ?',
    );
    this.#addPhone = db.prepare(
      'INSERT INTO gated_account_phones (tenant, account_id, number, verified_at) VALUES (?, ?, ?, ?)',
    );
    this.#phoneHolder = db
      .prepare<[string, string], string>(
        'SELECT account_id FROM gated_account_phones WHERE tenant = ? AND number = ?',
      )
      .pluck();
    this.#approvals = db.prepare<[string, string], ApprovalRow>(
      'SELECT * FROM gated_account_residents WHERE tenant = ? AND account_id = ? ORDER BY resident_id',
    );
    this.#approval = db.prepare<[string, string, string], ApprovalRow>(
      'SELECT * FROM gated_account_residents WHERE tenant = ? AND account_id = ? AND resident_id = ?',
    );
    this.#setApproval = db.prepare(
      `INSERT INTO gated_account_residents (tenant, account_id, resident_id, status, decided_at, decided_by)
       VALUES (@tenant, @account_id, @resident_id, @status, @decided_at, @decided_by)
       ON CONFLICT (tenant, account_id, resident_id) DO UPDATE SET status = excluded.status,
         decided_at = excluded.decided_at, decided_by = excluded.decided_by`,
    );
    this.#deleteApproval = db.prepare(
      'DELETE FROM gated_account_residents WHERE tenant = ? AND account_id = ? AND resident_id = ?',
    );
  }

  #view(row: AccountRow): StoredAccount {
    const phones: AccountPhone[] = this.#phones
      .all(row.tenant, row.id)
      .map((p) => ({ number: p.number, verifiedAt: p.verified_at }));
    return accountFromRow(row, phones);
  }

  #maybe(row: AccountRow | undefined): StoredAccount | undefined {
    return row ? this.#view(row) : undefined;
  }

  async get(tenant: string, id: string): Promise<StoredAccount | undefined> {
    return this.#maybe(this.#get.get(tenant, id));
  }

  async byNumber(tenant: string, number: string): Promise<StoredAccount | undefined> {
    return this.#maybe(this.#byNumber.get(tenant, number));
  }

  async byVerifiedPhone(tenant: string, e164: string): Promise<StoredAccount | undefined> {
    return this.#maybe(this.#byVerifiedPhone.get(tenant, e164));
  }

  async byWebLogin(tenant: string, login: string): Promise<StoredAccount | undefined> {
    return this.#maybe(this.#byWebLogin.get(tenant, login));
  }

  async list(tenant: string, options: ListOptions): Promise<Page<StoredAccount>> {
    const rows =
      options.after === undefined
        ? this.#list.all(tenant, options.limit + 1)
        : this.#listAfter.all(tenant, options.after, options.limit + 1);
    const items = rows.slice(0, options.limit).map((r) => this.#view(r));
    return { items, next: rows.length > options.limit ? (items.at(-1)?.id ?? null) : null };
  }

  #row(account: StoredAccount) {
    return {
      tenant: account.tenant,
      id: account.id,
      number: account.number,
      name: account.name,
      web_login: account.webLogin,
      pin_hash: account.pinHash,
      rate_per_minute: account.ratePerMinute,
      status: account.status,
      created_at: account.createdAt,
      updated_at: account.updatedAt,
    };
  }

  #setPhones(account: StoredAccount): void {
    this.#clearPhones.run(account.tenant, account.id);
    for (const phone of account.phones)
      this.#addPhone.run(account.tenant, account.id, phone.number, phone.verifiedAt);
  }

  async insert(account: StoredAccount): Promise<void> {
    this.#db.transaction(() => {
      this.#insert.run(this.#row(account));
      this.#setPhones(account);
    })();
  }

  async update(account: StoredAccount): Promise<void> {
    this.#db.transaction(() => {
      this.#update.run(this.#row(account));
      this.#setPhones(account);
    })();
  }

  async phoneHolder(tenant: string, e164: string, exceptId?: string): Promise<string | undefined> {
    const holder = this.#phoneHolder.get(tenant, e164);
    return holder === undefined || holder === exceptId ? undefined : holder;
  }

  async approvals(tenant: string, accountId: string): Promise<Approval[]> {
    return this.#approvals.all(tenant, accountId).map(approvalFromRow);
  }

  async approval(
    tenant: string,
    accountId: string,
    residentId: string,
  ): Promise<Approval | undefined> {
    const row = this.#approval.get(tenant, accountId, residentId);
    return row ? approvalFromRow(row) : undefined;
  }

  async setApproval(approval: Approval): Promise<void> {
    this.#setApproval.run({
      tenant: approval.tenant,
      account_id: approval.accountId,
      resident_id: approval.residentId,
      status: approval.status,
      decided_at: approval.decidedAt,
      decided_by: approval.decidedBy,
    });
  }

  async deleteApproval(tenant: string, accountId: string, residentId: string): Promise<boolean> {
    return this.#deleteApproval.run(tenant, accountId, residentId).changes > 0;
  }

  /** Nothing to do: the resident's row cascades to its approvals. */
  async deleteResidentApprovals(): Promise<void> {}
}
