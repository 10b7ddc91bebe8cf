import { ParleyError } from '@parley/shared/errors';
import type { Posting } from './types.js';

/**
 * Largest amount one posting may carry: far above any real charge, and small
 * enough that sums of millions of postings stay exact in a double
 * (Number.MAX_SAFE_INTEGER is 9e15).
 */
export const MAX_POSTING = 1e12;

const bad = (detail: string) => new ParleyError('bad_request', detail, { expose: true });

/**
 * Throws unless the postings form a valid double entry: at least two, each a
 * non-zero safe integer on a distinct account, summing to exactly zero.
 */
export function assertBalanced(postings: readonly Posting[]): void {
  if (postings.length < 2) throw bad('a ledger transaction needs at least two postings');
  const accounts = new Set<string>();
  let sum = 0;
  for (const p of postings) {
    if (!Number.isSafeInteger(p.amount) || p.amount === 0 || Math.abs(p.amount) > MAX_POSTING)
      throw bad(`posting amount ${String(p.amount)} is not a non-zero integer of minor units`);
    if (accounts.has(p.account)) throw bad(`account ${p.account} is posted twice`);
    accounts.add(p.account);
    sum += p.amount;
  }
  if (sum !== 0) throw bad(`postings sum to ${sum}, not 0`);
}

/** Whether two posting lists are the same entries (order aside). */
export function samePostings(a: readonly Posting[], b: readonly Posting[]): boolean {
  if (a.length !== b.length) return false;
  const byAccount = new Map(a.map((p) => [p.account, p.amount]));
  return b.every((p) => byAccount.get(p.account) === p.amount);
}
