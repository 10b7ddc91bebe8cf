import type { LedgerStore, PostResult } from '../ledger/index.js';
import type { Advertiser } from './model.js';

/** The ledger accounts of the marketplace. */
export const accountId = {
  advertiser: (id: string) => `advertiser:${id}`,
  publisher: (id: string) => `publisher:${id}`,
  /** The marketplace operator's revenue. */
  platform: (tenant: string) => `platform:${tenant}`,
  /** The outside world: deposits come from it (it goes negative by what was paid in). */
  funding: (tenant: string) => `funding:${tenant}`,
};

/** The marketplace's view of the ledger: its accounts, balances and deposits. */
export class MarketplaceAccounts {
  readonly #ledger: LedgerStore;
  readonly #currency: string;

  constructor(ledger: LedgerStore, currency: string) {
    this.#ledger = ledger;
    this.#currency = currency;
  }

  get ledger(): LedgerStore {
    return this.#ledger;
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
    return this.#ledger.post({
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
    });
  }
}
