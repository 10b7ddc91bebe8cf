/**
 * `POST /v1/refunds` (`Billing.refund`): the request checked, then the refund
 * in the ledger that holds the call's charge (the shared one,
 * `billing-shared.ts`, or the file's, `refund-local.ts`), then the index and
 * the advertiser's funds told.
 */
import { ParleyError } from '@parley/shared/errors';
import type { PostResult } from '../ledger/index.js';
import type { BillingOptions } from './billing.js';
import { refundShared } from './billing-shared.js';
import { SqliteMarketplaceCallStore } from './call-store.js';
import { refundLocal } from './refund-local.js';
import { describeIssue, refundSchema } from './validation.js';

/** Gives back part or all of a call's charge, ledgered, once per key. */
export async function refundCall(
  o: BillingOptions,
  viewer: string | undefined,
  body: unknown,
  headerKey: string | undefined,
  now: number,
): Promise<PostResult & { amount: number }> {
  const parsed = refundSchema.safeParse(body ?? {});
  if (!parsed.success)
    throw new ParleyError('bad_request', describeIssue(parsed.error), { expose: true });
  const input = parsed.data;
  const key = input.key ?? headerKey;
  if (key === undefined)
    throw new ParleyError(
      'bad_request',
      'a refund needs an idempotency key (key field or Idempotency-Key header)',
      {
        expose: true,
      },
    );
  const { calls, accounts, directory, index, registry } = o;
  const found = await calls.get(input.callId);
  if (!found || (viewer !== undefined && found.tenant !== viewer))
    throw new ParleyError('not_found', 'no such marketplace call', { expose: true });
  const ledgerKey = `refund:${found.tenant}:${key}`;
  const result = accounts.shared
    ? await refundShared({
        shared: accounts.shared,
        directory,
        call: found,
        ledgerKey,
        amount: input.amountCents,
        reason: input.reason,
        day: index.today(found.qualifiedAt ?? now),
        now,
      })
    : refundLocal(sqliteCalls(o), o, ledgerKey, input, now);
  if (!result.duplicate) {
    // Today's budget gets the money back; a refund of an earlier day's charge only changes that day's report.
    const day = index.today(found.qualifiedAt ?? now);
    if (day === index.today(now)) index.addSpend(found.listingId, day, -result.amount);
    await registry.fundsChanged(found.advertiserId);
  }
  return result;
}

/** With the file's ledger the calls are the file's too (the marketplace wires them so). */
function sqliteCalls(o: Pick<BillingOptions, 'calls'>): SqliteMarketplaceCallStore {
  if (!(o.calls instanceof SqliteMarketplaceCallStore))
    throw new Error('the SQLite ledger needs the SQLite call store');
  return o.calls;
}
