import type {
  AccountKind,
  LedgerAccount,
  LedgerProblem,
  LedgerTransaction,
  PostInput,
  PostResult,
} from './types.js';

/**
 * The ledger's storage (SQLite now, PostgreSQL later). Every method is
 * atomic; {@link post} is where money moves and the only writer of balances.
 * Called inside a caller's database transaction (the SQLite store nests as a
 * savepoint), a post commits or rolls back with the caller's other writes.
 */
export interface LedgerStore {
  /** Opens the account if it does not exist yet; answers it either way. */
  openAccount(input: {
    id: string;
    tenant: string;
    kind: AccountKind;
    currency: string;
    at: number;
  }): LedgerAccount;
  account(id: string): LedgerAccount | undefined;
  /**
   * Writes one balanced transaction, exactly once per key: a repeat of a key
   * answers the first transaction with `duplicate: true` (and refuses with
   * `conflict` when the repeat carries other postings: a reused key is a bug).
   */
  post(input: PostInput): PostResult;
  transaction(key: string): LedgerTransaction | undefined;
  transactionById(id: number): LedgerTransaction | undefined;
  /** Transactions touching the account (or the tenant's), newest first. */
  list(filter: {
    account?: string;
    tenant?: string;
    limit: number;
    beforeId?: number;
  }): LedgerTransaction[];
  /** Sum of the amounts of the transactions that reverse `id` (refunds of a charge). */
  reversedAmount(id: number, account: string): number;
  /**
   * Checks the books: every transaction sums to zero, every kept balance equals
   * the sum of the account's postings, all balances sum to zero.
   */
  verify(): LedgerProblem[];
}

/**
 * A condition a post must meet, checked in the post's own database
 * transaction after the balances moved (so under the rows' locks): a
 * statement that must change at least one row, else the whole post rolls back
 * and answers `refused` with the reason. The marketplace's daily budget is
 * one (`dailyBudgetCheck` in `marketplace/pg-charges.ts`).
 */
export interface PostCheck {
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly refusal: string;
}

/** What a guarded post may refuse for besides its checks' reasons. */
export interface PostGuard {
  /** The account whose balance must stay at or above `min` (an advertiser: minus its credit limit). */
  readonly floor?: { readonly account: string; readonly min: number; readonly refusal: string };
  readonly checks?: readonly PostCheck[];
  /**
   * Other rows that must commit with the money (the marketplace call's
   * qualified state and the day's counts), written in the post's transaction
   * after the checks; not run when the key was posted before.
   */
  readonly writes?: readonly { readonly sql: string; readonly params: readonly unknown[] }[];
}

export type GuardedPostResult = PostResult | { readonly refused: string };

/**
 * The ledger shared by every gateway (PostgreSQL, `storage.kind: postgres`):
 * the {@link LedgerStore} contract, each answer a promise, and the key's
 * uniqueness is the database's (a unique constraint, never a read then a
 * write), so two gateways posting one key write it once.
 */
export interface SharedLedgerStore {
  openAccount(input: {
    id: string;
    tenant: string;
    kind: AccountKind;
    currency: string;
    at: number;
  }): Promise<LedgerAccount>;
  account(id: string): Promise<LedgerAccount | undefined>;
  post(input: PostInput): Promise<PostResult>;
  /**
   * {@link post} that also checks, in the same transaction, that the funds
   * and limits allow it: a balance below its floor or a failed check rolls it
   * all back (`refused`). A repeat of a posted key answers `duplicate` and
   * checks nothing.
   */
  postGuarded(input: PostInput, guard: PostGuard): Promise<GuardedPostResult>;
  transaction(key: string): Promise<LedgerTransaction | undefined>;
  transactionById(id: number): Promise<LedgerTransaction | undefined>;
  list(filter: {
    account?: string;
    tenant?: string;
    limit: number;
    beforeId?: number;
  }): Promise<LedgerTransaction[]>;
  reversedAmount(id: number, account: string): Promise<number>;
  verify(): Promise<LedgerProblem[]>;
}
