/**
 * A qualified call's charge in the ledger every gateway shares (PostgreSQL,
 * `storage.kind: postgres`): one transaction that writes the key
 * `charge:<callId>` once (a unique constraint), debits the advertiser only
 * down to minus its credit limit (a conditional UPDATE) and adds the price to
 * the listing's spend of the day only up to its daily budget (a conditional
 * upsert); the limit and the budget as the shared directory's rows say. Two
 * gateways charging calls of one listing at once therefore charge exactly
 * what the balance and the budget cover, each call once.
 */
import {
  PgLedgerStore,
  type LedgerTransaction,
  type PostCheck,
  type SharedLedgerStore,
} from '../ledger/index.js';
import type { PgPool } from '../storage/postgres/index.js';
import { accountId } from './accounts.js';
import { chargePostings } from './billing-postings.js';
import type { MarketplaceCall } from './call-store.js';

export { MARKETPLACE_PG_MIGRATIONS } from './postgres/pg-schema.js';

/**
 * Adds `amount` to the listing's spend of `day` unless that passes its daily
 * budget: the row is created or updated by one statement, under the row's
 * lock, so concurrent charges see each other's spend. The budget is the
 * shared directory's row (`mp_listings`), so a budget lowered through one
 * gateway holds on every other at once, not after its 5 s refresh; `budget`
 * (the gateway's copy) only for a listing no longer there.
 */
export function dailyBudgetCheck(
  listingId: string,
  day: string,
  amount: number,
  budget: number,
): PostCheck {
  return {
    sql: `WITH b AS (SELECT COALESCE((SELECT daily_budget FROM mp_listings WHERE id = $1), $4::BIGINT) AS budget)
          INSERT INTO mp_listing_spend (listing_id, day, spent)
          SELECT $1, $2, $3::BIGINT FROM b WHERE $3::BIGINT <= b.budget
          ON CONFLICT (listing_id, day) DO UPDATE SET spent = mp_listing_spend.spent + excluded.spent
          WHERE mp_listing_spend.spent + excluded.spent <= (SELECT budget FROM b)`,
    params: [listingId, day, amount, budget],
    refusal: 'daily_budget_exhausted',
  };
}

/**
 * The advertiser's balance, already moved by the charge (its row locked by
 * this transaction), is at or above minus its credit limit as the shared
 * directory's row says (`mp_advertisers`; 0 for prepaid), so a limit lowered
 * through one gateway holds on every other at once. `creditLimit` (the
 * gateway's copy, also the ledger's floor) only for an advertiser no longer
 * there.
 */
export function creditLimitCheck(advertiserId: string, creditLimit: number): PostCheck {
  return {
    sql: `SELECT 1 FROM ledger_accounts WHERE id = $1 AND balance >= -COALESCE(
            (SELECT CASE WHEN billing = 'credit' THEN credit_limit ELSE 0 END
             FROM mp_advertisers WHERE id = $2), $3::BIGINT)`,
    params: [accountId.advertiser(advertiserId), advertiserId, creditLimit],
    refusal: 'insufficient_funds',
  };
}

/**
 * Takes a refund off the listing's spend of the charge's day (in the
 * refund's transaction): the budget gets the money back, as the SQLite
 * store's spend is net of refunds. Never below 0: a refund is at most what
 * its charge added.
 */
export function dailySpendRefund(
  listingId: string,
  day: string,
  amount: number,
): { readonly sql: string; readonly params: readonly unknown[] } {
  return {
    sql: 'UPDATE mp_listing_spend SET spent = spent - $3::BIGINT WHERE listing_id = $1 AND day = $2',
    params: [listingId, day, amount],
  };
}

export type SharedChargeResult =
  | { readonly status: 'charged' | 'duplicate'; readonly transaction: LedgerTransaction }
  | {
      readonly status: 'refused';
      readonly reason: 'insufficient_funds' | 'daily_budget_exhausted' | 'already_qualified';
    };

const REFUSALS = ['insufficient_funds', 'daily_budget_exhausted', 'already_qualified'] as const;

export interface SharedChargeInput {
  readonly call: Pick<
    MarketplaceCall,
    'callId' | 'tenant' | 'kind' | 'listingId' | 'advertiserId' | 'publisherId' | 'impressionId'
  >;
  readonly price: number;
  readonly sharePercent: number;
  /** 0 for a prepaid advertiser: its balance may not go below minus this. */
  readonly creditLimit: number;
  readonly dailyBudget: number;
  /** The budget day of the charge (`marketplace.timeZone`). */
  readonly day: string;
  readonly at: number;
  /**
   * The call's row marked qualified with this charge, and its counts
   * (`qualifiedCheck`): run last in the charge's transaction, and when it
   * changes no row (the call was recorded qualified meanwhile, or is missing)
   * the charge is refused `already_qualified` and nothing moves.
   */
  readonly row?: PostCheck;
}

export class PgCharges {
  readonly #pool: PgPool;
  readonly #ledger: SharedLedgerStore;
  readonly #currency: string;

  /** `pool`: the database of `storage.postgres`, migrated with the ledger's and the marketplace's modules. */
  constructor(pool: PgPool, currency: string) {
    this.#pool = pool;
    this.#ledger = new PgLedgerStore(pool);
    this.#currency = currency;
  }

  /** The shared database: the marketplace's other shared stores (`postgres/`) use it too. */
  get pool(): PgPool {
    return this.#pool;
  }

  get ledger(): SharedLedgerStore {
    return this.#ledger;
  }

  /** Opens the accounts a charge posts to (idempotent; before the first charge of an advertiser). */
  async openAccounts(
    call: Pick<MarketplaceCall, 'tenant' | 'advertiserId' | 'publisherId'>,
    at: number,
  ): Promise<void> {
    const accounts: [string, string][] = [
      [accountId.platform(call.tenant), 'platform'],
      [accountId.funding(call.tenant), 'funding'],
      [accountId.advertiser(call.advertiserId), 'advertiser'],
    ];
    if (call.publisherId !== null)
      accounts.push([accountId.publisher(call.publisherId), 'publisher']);
    // One statement: before each charge, so it costs one round trip, not a read per account.
    await this.#pool.query(
      `INSERT INTO ledger_accounts (id, tenant, kind, currency, balance, created_at)
       SELECT a.id, $1, a.kind, $2, 0, $3 FROM UNNEST($4::TEXT[], $5::TEXT[]) AS a(id, kind)
       ON CONFLICT (id) DO NOTHING`,
      [call.tenant, this.#currency, at, accounts.map((a) => a[0]), accounts.map((a) => a[1])],
    );
  }

  /** Charges the call once (key `charge:<callId>`), or refuses with what could not pay. */
  async charge(input: SharedChargeInput): Promise<SharedChargeResult> {
    const { call } = input;
    const result = await this.#ledger.postGuarded(
      {
        key: `charge:${call.callId}`,
        tenant: call.tenant,
        kind: 'charge',
        postings: chargePostings(call, input.price, input.sharePercent),
        memo: `qualified call to listing ${call.listingId}`,
        meta: {
          callId: call.callId,
          listingId: call.listingId,
          impressionId: call.impressionId,
          publisherId: call.publisherId,
          kind: call.kind,
        },
        at: input.at,
      },
      {
        floor: {
          account: accountId.advertiser(call.advertiserId),
          min: -input.creditLimit,
          refusal: 'insufficient_funds',
        },
        // The row last: the locks are taken in the order every charge takes them (accounts, the
        // listing's spend, then the call and its counts).
        checks: [
          creditLimitCheck(call.advertiserId, input.creditLimit),
          dailyBudgetCheck(call.listingId, input.day, input.price, input.dailyBudget),
          ...(input.row ? [input.row] : []),
        ],
      },
    );
    if ('refused' in result)
      return {
        status: 'refused',
        reason: REFUSALS.find((r) => r === result.refused) ?? 'insufficient_funds',
      };
    return {
      status: result.duplicate ? 'duplicate' : 'charged',
      transaction: result.transaction,
    };
  }

  /** The listing's spend of the day across every gateway. */
  async spent(listingId: string, day: string): Promise<number> {
    const { rows } = await this.#pool.query<{ spent: number }>(
      'SELECT spent FROM mp_listing_spend WHERE listing_id = $1 AND day = $2',
      [listingId, day],
    );
    return rows[0]?.spent ?? 0;
  }

  /** Every listing's spend of the day across every gateway. */
  async spentOn(day: string): Promise<Map<string, number>> {
    const { rows } = await this.#pool.query<{ listing_id: string; spent: number }>(
      'SELECT listing_id, spent FROM mp_listing_spend WHERE day = $1',
      [day],
    );
    return new Map(rows.map((r) => [r.listing_id, r.spent]));
  }

  /** Every advertiser account's balance (account id → minor units). */
  async advertiserBalances(): Promise<Map<string, number>> {
    const { rows } = await this.#pool.query<{ id: string; balance: number }>(
      `SELECT id, balance FROM ledger_accounts WHERE kind = 'advertiser'`,
    );
    return new Map(rows.map((r) => [r.id, r.balance]));
  }
}
