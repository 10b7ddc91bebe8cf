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
