/**
 * A refund in the gateway's SQLite ledger: one SQLite transaction with the
 * call's refunded amount and the day's counts, at most what is left of the
 * charge, once per key (the shared ledger's is `billing-shared.ts`).
 */
import { ParleyError } from '@parley/shared/errors';
import type { PostResult } from '../ledger/index.js';
import type { BillingOptions } from './billing.js';
import type { SqliteMarketplaceCallStore } from './call-store.js';
import { chargePostings } from './billing-postings.js';

export function refundLocal(
  calls: SqliteMarketplaceCallStore,
  o: Pick<BillingOptions, 'accounts' | 'directory' | 'index'>,
  ledgerKey: string,
  input: { callId: string; amountCents?: number | undefined; reason?: string | undefined },
  now: number,
): PostResult & { amount: number } {
  const { accounts, directory } = o;
  return calls.atomically(() => {
    const previous = accounts.ledger.transaction(ledgerKey);
    if (previous)
      return {
        transaction: previous,
        duplicate: true,
        // What went back to the advertiser: the refund's one credit.
        amount: previous.postings.find((p) => p.amount > 0)?.amount ?? 0,
      };
    const call = calls.getNow(input.callId);
    const charge = call?.chargeKey ? accounts.ledger.transaction(call.chargeKey) : undefined;
    if (!call || !charge)
      throw new ParleyError('conflict', 'the call was not charged: there is nothing to refund', {
        expose: true,
      });
    const left = call.charged - call.refunded;
    const amount = input.amountCents ?? left;
    if (amount > left)
      throw new ParleyError(
        'conflict',
        `amountCents ${amount} is more than the ${left} left to refund`,
        {
          expose: true,
        },
      );
    if (amount <= 0)
      throw new ParleyError('conflict', 'the charge was refunded in full already', {
        expose: true,
      });
    const share =
      call.publisherId === null ? 0 : (directory.publisher(call.publisherId)?.sharePercent ?? 0);
    // The charge's split, reversed in proportion.
    const postings = chargePostings(call, amount, share).map((p) => ({
      account: p.account,
      amount: -p.amount,
    }));
    const posted = accounts.ledger.post({
      key: ledgerKey,
      tenant: call.tenant,
      kind: 'refund',
      postings,
      memo: input.reason,
      meta: { callId: call.callId, listingId: call.listingId },
      reverses: charge.id,
      at: now,
    });
    calls.refundNow(call.callId, o.index.today(call.qualifiedAt ?? now), amount);
    return { ...posted, amount };
  });
}
