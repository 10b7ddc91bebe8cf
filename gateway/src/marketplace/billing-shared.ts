/**
 * The charge and the refund when the money is in the ledger every gateway
 * shares (`storage.kind: postgres`, {@link PgCharges}), and so are the call
 * rows and the daily counts (`postgres/pg-call-store.ts`): the money, the
 * call's state and the day's counts move in one PostgreSQL transaction (the
 * ledger's key, the advertiser's floor, the listing's daily budget, then the
 * call's row and counts, written only if the call was not qualified yet, else
 * the money does not move either). A crash leaves all or nothing; a repeat
 * finds the key and writes nothing.
 */
import { ParleyError } from '@parley/shared/errors';
import type { PostResult } from '../ledger/index.js';
import { chargePostings } from './billing-postings.js';
import type { MarketplaceCall } from './call-store.js';
import type { DirectoryStore } from './directory-store.js';
import { dailySpendRefund, type PgCharges } from './pg-charges.js';
import { qualifiedCheck, refundWrite } from './postgres/pg-call-store.js';

export type SharedChargeOutcome =
  | { readonly status: 'charged' | 'duplicate'; readonly transactionId: number | null }
  | {
      readonly status: 'refused';
      readonly reason: 'insufficient_funds' | 'daily_budget_exhausted';
    }
  /** The row was qualified by someone else meanwhile (or is missing): nothing moved. */
  | { readonly status: 'already_qualified' };

/** Moves the money of a qualified call in the shared ledger (nothing for a call priced 0). */
export async function chargeShared(
  shared: PgCharges,
  directory: DirectoryStore,
  call: MarketplaceCall,
  day: string,
  at: number,
): Promise<SharedChargeOutcome> {
  if (call.price <= 0) return { status: 'charged', transactionId: null };
  const advertiser = directory.advertiser(call.advertiserId);
  const listing = directory.listing(call.listingId);
  const share =
    call.publisherId === null ? 0 : (directory.publisher(call.publisherId)?.sharePercent ?? 0);
  await shared.openAccounts(call, at);
  const result = await shared.charge({
    call,
    price: call.price,
    sharePercent: share,
    creditLimit: advertiser?.billing === 'credit' ? advertiser.creditLimit : 0,
    // A listing deleted from under its call: its budget no longer limits (the balance still does).
    dailyBudget: listing?.dailyBudget ?? Number.MAX_SAFE_INTEGER,
    day,
    at,
    row: qualifiedCheck(call.callId, day, at, {
      chargeKey: `charge:${call.callId}`,
      charged: call.price,
    }),
  });
  if (result.status !== 'refused')
    return { status: result.status, transactionId: result.transaction.id };
  return result.reason === 'already_qualified'
    ? { status: 'already_qualified' }
    : { status: 'refused', reason: result.reason };
}

/**
 * A refund in the shared ledger: at most what is left of the charge, checked
 * in the refund's transaction under a per-charge lock (two refunds with
 * different keys on two gateways cannot give back more than was charged).
 */
export async function refundShared(input: {
  shared: PgCharges;
  directory: DirectoryStore;
  call: MarketplaceCall;
  ledgerKey: string;
  amount: number | undefined;
  reason: string | undefined;
  day: string;
  now: number;
}): Promise<PostResult & { amount: number }> {
  const { shared, call, ledgerKey } = input;
  const ledger = shared.ledger;
  const previous = await ledger.transaction(ledgerKey);
  if (previous)
    return {
      transaction: previous,
      duplicate: true,
      // What went back to the advertiser: the refund's one credit.
      amount: previous.postings.find((p) => p.amount > 0)?.amount ?? 0,
    };
  const charge = call.chargeKey ? await ledger.transaction(call.chargeKey) : undefined;
  if (!charge)
    throw new ParleyError('conflict', 'the call was not charged: there is nothing to refund', {
      expose: true,
    });
  const advertiserAccount = charge.postings.find((p) => p.amount < 0)?.account ?? '';
  const chargedAmount = -(charge.postings.find((p) => p.amount < 0)?.amount ?? 0);
  const left = chargedAmount - (await ledger.reversedAmount(charge.id, advertiserAccount));
  const amount = input.amount ?? left;
  if (amount > left)
    throw new ParleyError(
      'conflict',
      `amountCents ${amount} is more than the ${left} left to refund`,
      {
        expose: true,
      },
    );
  if (amount <= 0)
    throw new ParleyError('conflict', 'the charge was refunded in full already', { expose: true });
  const share =
    call.publisherId === null
      ? 0
      : (input.directory.publisher(call.publisherId)?.sharePercent ?? 0);
  const postings = chargePostings(call, amount, share).map((p) => ({
    account: p.account,
    amount: -p.amount,
  }));
  const posted = await ledger.postGuarded(
    {
      key: ledgerKey,
      tenant: call.tenant,
      kind: 'refund',
      postings,
      ...(input.reason === undefined ? {} : { memo: input.reason }),
      meta: { callId: call.callId, listingId: call.listingId },
      reverses: charge.id,
      at: input.now,
    },
    {
      checks: [
        // Its own statement, so the next one's snapshot sees the refunds committed while it waited.
        { sql: 'SELECT pg_advisory_xact_lock($1)', params: [charge.id], refusal: 'locked' },
        {
          sql: `SELECT 1 WHERE (SELECT COALESCE(SUM(p.amount), 0) FROM ledger_postings p
                  JOIN ledger_transactions t ON t.id = p.transaction_id
                  WHERE t.reverses = $1 AND p.account_id = $2) <= $3::BIGINT`,
          params: [charge.id, advertiserAccount, chargedAmount],
          refusal: 'over_refunded',
        },
      ],
      // The listing's spend (its budget), the call's refunded amount and the day's counts commit
      // with the refund, in the order a charge locks them (the spend, then the call and counts).
      writes: [
        dailySpendRefund(call.listingId, input.day, amount),
        refundWrite(call.callId, input.day, amount),
      ],
    },
  );
  if ('refused' in posted)
    throw new ParleyError(
      'conflict',
      'the charge was refunded meanwhile: nothing is left to refund',
      {
        expose: true,
      },
    );
  return { ...posted, amount };
}
