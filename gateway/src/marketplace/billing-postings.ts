import type { Posting } from '../ledger/index.js';
import { accountId } from './accounts.js';
import type { MarketplaceCall } from './call-store.js';

/** Splits a charge: the publisher's share (rounded down), the platform the rest. */
export function chargePostings(
  call: Pick<MarketplaceCall, 'tenant' | 'advertiserId' | 'publisherId'>,
  amount: number,
  sharePercent: number,
): Posting[] {
  const share = call.publisherId === null ? 0 : Math.floor((amount * sharePercent) / 100);
  const postings: Posting[] = [
    { account: accountId.advertiser(call.advertiserId), amount: -amount },
  ];
  if (share > 0)
    postings.push({ account: accountId.publisher(call.publisherId ?? ''), amount: share });
  if (amount - share > 0)
    postings.push({ account: accountId.platform(call.tenant), amount: amount - share });
  return postings;
}
