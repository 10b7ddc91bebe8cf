import type {
  LedgerStore,
  LedgerTransaction,
  PostInput,
  PostResult,
  SharedLedgerStore,
} from '../ledger/index.js';
import type { Advertiser } from './model.js';
import type { PgCharges } from './pg-charges.js';

/** The ledger accounts of the marketplace. */
export const accountId = {
  advertiser: (id: string) => `advertiser:${id}`,
  publisher: (id: string) => `publisher:${id}`,
  /** The marketplace operator's revenue. */
  platform: (tenant: string) => `platform:${tenant}`,
  /** The outside world: deposits come from it (it goes negative by what was paid in). */
  funding: (tenant: string) => `funding:${tenant}`,
};

/** What the API reads of the ledger, whichever database holds it. */
export interface LedgerReader {
  list(filter: {
    account?: string;
    tenant?: string;
    limit: number;
    beforeId?: number;
  }): Promise<LedgerTransaction[]>;
  transaction(key: string): Promise<LedgerTransaction | undefined>;
}

/**
 * The marketplace's view of the ledger: its accounts, balances and deposits.
 * The synchronous methods are the gateway's SQLite ledger (written inside the
 * SQLite transactions of the directory and the billing). With `shared` (the
 * PostgreSQL ledger every gateway of a cluster uses, `storage.kind:
 * postgres`) the money is there: the `…Now` methods and {@link book} read and
 * write the ledger that holds the money in either case.
 */
export class MarketplaceAccounts {
  readonly #ledger: LedgerStore;
  readonly #currency: string;
  readonly shared: PgCharges | undefined;

  constructor(ledger: LedgerStore, currency: string, shared?: PgCharges) {
    this.#ledger = ledger;
    this.#currency = currency;
    this.shared = shared;
  }

  get ledger(): LedgerStore {
    return this.#ledger;
  }

  /** The ledger that holds the money (the shared one when there is one), for reading. */
  get book(): LedgerReader {
    const shared: SharedLedgerStore | undefined = this.shared?.ledger;
    if (shared) return shared;
    const local = this.#ledger;
    return {
      list: (filter) => Promise.resolve(local.list(filter)),
      transaction: (key) => Promise.resolve(local.transaction(key)),
    };
  }

  /** Opens the accounts in the shared ledger (the SQLite ones open inside the directory's transaction). */
  async openShared(
    tenant: string,
    accounts: readonly { id: string; kind: 'advertiser' | 'publisher' }[],
    at: number,
  ): Promise<void> {
    const ledger = this.shared?.ledger;
    if (!ledger) return;
    const currency = this.#currency;
    await ledger.openAccount({
      id: accountId.platform(tenant),
      tenant,
      kind: 'platform',
      currency,
      at,
    });
    await ledger.openAccount({
      id: accountId.funding(tenant),
      tenant,
      kind: 'funding',
      currency,
      at,
    });
    for (const a of accounts) await ledger.openAccount({ ...a, tenant, currency, at });
  }

  /** The balance in the ledger that holds the money. */
  async balanceNow(account: string): Promise<number> {
    const ledger = this.shared?.ledger;
    if (!ledger) return this.balance(account);
    return (await ledger.account(account))?.balance ?? 0;
  }

  /** {@link available} from the ledger that holds the money. */
  async availableNow(a: Advertiser): Promise<number> {
    return (
      (await this.balanceNow(accountId.advertiser(a.id))) +
      (a.billing === 'credit' ? a.creditLimit : 0)
    );
  }

  /** {@link deposit} into the ledger that holds the money. */
  async depositNow(
    a: Advertiser,
    amount: number,
    key: string,
    memo: string | undefined,
    at: number,
  ): Promise<PostResult> {
    const ledger = this.shared?.ledger;
    if (!ledger) return this.deposit(a, amount, key, memo, at);
    await this.openShared(a.tenant, [{ id: accountId.advertiser(a.id), kind: 'advertiser' }], at);
    return ledger.post(this.#depositInput(a, amount, key, memo, at));
  }

  openTenant(tenant: string, at: number): void {
    const c = this.#currency;
    this.#ledger.openAccount({
      id: accountId.platform(tenant),
      tenant,
      kind: 'platform',
      currency: c,
      at,
    });
    this.#ledger.openAccount({
      id: accountId.funding(tenant),
      tenant,
      kind: 'funding',
      currency: c,
      at,
    });
  }

  openAdvertiser(a: Advertiser): void {
    this.openTenant(a.tenant, a.createdAt);
    this.#ledger.openAccount({
      id: accountId.advertiser(a.id),
      tenant: a.tenant,
      kind: 'advertiser',
      currency: this.#currency,
      at: a.createdAt,
    });
  }

  openPublisher(tenant: string, id: string, at: number): void {
    this.openTenant(tenant, at);
    this.#ledger.openAccount({
      id: accountId.publisher(id),
      tenant,
      kind: 'publisher',
      currency: this.#currency,
      at,
    });
  }

  balance(account: string): number {
    return this.#ledger.account(account)?.balance ?? 0;
  }

  /** What the advertiser can still spend: its balance, plus the credit limit on credit. */
  available(a: Advertiser): number {
    return this.balance(accountId.advertiser(a.id)) + (a.billing === 'credit' ? a.creditLimit : 0);
  }

  deposit(
    a: Advertiser,
    amount: number,
    key: string,
    memo: string | undefined,
    at: number,
  ): PostResult {
    return this.#ledger.post(this.#depositInput(a, amount, key, memo, at));
  }

  #depositInput(
    a: Advertiser,
    amount: number,
    key: string,
    memo: string | undefined,
    at: number,
  ): PostInput {
    return {
      key: `deposit:${a.id}:${key}`,
      tenant: a.tenant,
      kind: 'deposit',
      postings: [
        { account: accountId.funding(a.tenant), amount: -amount },
        { account: accountId.advertiser(a.id), amount },
      ],
      ...(memo === undefined ? {} : { memo }),
      meta: { advertiserId: a.id },
      at,
    };
  }
}
