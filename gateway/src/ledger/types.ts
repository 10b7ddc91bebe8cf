/**
 * The vocabulary of the double-entry ledger. Amounts are integers in the
 * currency's minor unit (cents): floating point never touches money.
 *
 * Sign convention: an account's balance is the sum of its postings. Money the
 * platform holds for someone (an advertiser's prepaid balance, a publisher's
 * earned share, the platform's revenue) is a positive balance on their
 * account; the `funding` account of a tenant is the outside world, and goes
 * negative by what was paid in. The sum over all accounts is always zero.
 */

/** What an account stands for. */
export type AccountKind = 'advertiser' | 'publisher' | 'platform' | 'funding';

export interface LedgerAccount {
  /** e.g. `advertiser:ad_…`, `publisher:pb_…`, `platform:acme`, `funding:acme`. */
  readonly id: string;
  readonly tenant: string;
  readonly kind: AccountKind;
  /** ISO 4217 code; every posting of a transaction is in one currency. */
  readonly currency: string;
  /** Sum of the account's postings, kept in the same database transaction as they are written. */
  readonly balance: number;
  readonly createdAt: number;
}

export interface Posting {
  readonly account: string;
  /** Minor units; positive credits the account's balance, negative debits it. Never 0. */
  readonly amount: number;
}

export interface PostInput {
  /**
   * Idempotency key: a second post with the same key writes nothing and answers
   * the first transaction (`charge:<callId>`, `refund:<key>`, `deposit:<key>`).
   */
  readonly key: string;
  readonly tenant: string;
  /** What the money moved for: `charge`, `refund`, `deposit`, `withdrawal`, `callback_fee`… */
  readonly kind: string;
  /** At least two postings, summing to zero. */
  readonly postings: readonly Posting[];
  readonly memo?: string;
  /** Machine-readable context (call id, listing, impression…), stored as JSON. */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** The transaction this one reverses in part or whole (a refund of a charge). */
  readonly reverses?: number;
  readonly at: number;
}

export interface LedgerTransaction {
  readonly id: number;
  readonly key: string;
  readonly tenant: string;
  readonly kind: string;
  readonly postings: readonly Posting[];
  readonly memo: string | null;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly reverses: number | null;
  readonly createdAt: number;
}

export interface PostResult {
  readonly transaction: LedgerTransaction;
  /** True when the key had been posted before: nothing was written this time. */
  readonly duplicate: boolean;
}

/** What {@link LedgerStore.verify} found wrong (empty when the books hold). */
export interface LedgerProblem {
  readonly kind: 'unbalanced_transaction' | 'balance_mismatch' | 'nonzero_total';
  readonly detail: string;
}
