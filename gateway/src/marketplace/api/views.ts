/** The marketplace's records as the API shows them: amounts as `…Cents`, times as ISO strings. */
import type { LedgerTransaction } from '../../ledger/index.js';
import { accountId, type MarketplaceAccounts } from '../accounts.js';
import type { MarketplaceCall } from '../call-store.js';
import type { ListingIndex } from '../listing-index.js';
import type { Advertiser, Impression, Listing, Publisher } from '../model.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function advertiserView(a: Advertiser, accounts: MarketplaceAccounts) {
  const balance = await accounts.balanceNow(accountId.advertiser(a.id));
  return {
    id: a.id,
    tenant: a.tenant,
    name: a.name,
    externalId: a.externalId,
    billing: a.billing,
    creditLimitCents: a.creditLimit,
    balanceCents: balance,
    availableCents: balance + (a.billing === 'credit' ? a.creditLimit : 0),
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
  };
}

export async function publisherView(p: Publisher, accounts: MarketplaceAccounts) {
  const earned = await accounts.balanceNow(accountId.publisher(p.id));
  return {
    id: p.id,
    tenant: p.tenant,
    name: p.name,
    placementKey: p.placementKey,
    origins: p.origins,
    sharePercent: p.sharePercent,
    status: p.status,
    earnedCents: earned,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export function listingView(l: Listing, index: ListingIndex, now: number, sipDomain: string) {
  const quality = index.quality(l.id);
  const unplaced = index.placement(l.id, now);
  return {
    id: l.id,
    tenant: l.tenant,
    advertiserId: l.advertiserId,
    title: l.title,
    description: l.description,
    category: l.category,
    region: l.region,
    schedule: l.schedule,
    destination: l.destination,
    bidCents: l.bid,
    dailyBudgetCents: l.dailyBudget,
    spentTodayCents: index.spentOn(l.id, index.today(now)),
    qualification: { minConnectedSeconds: l.minConnectedSeconds },
    staticNumber: l.staticNumber,
    status: l.status,
    pauseReason: l.pauseReason,
    /** Whether an auction would consider it now, and why not (`destination_refused`: with the rule). */
    eligible: unplaced === undefined,
    ineligibleReason: unplaced?.reason ?? null,
    ineligibleDetail: unplaced?.detail ?? null,
    quality: quality ?? null,
    /** How a caller reaches it: the web reference for `<parley-call listing>`, the static number. */
    references: {
      web: { listing: l.id, sipUri: `sip:listing.${l.id}@${sipDomain}` },
      staticNumber: l.staticNumber,
    },
    createdAt: iso(l.createdAt),
    updatedAt: iso(l.updatedAt),
  };
}

export function impressionView(i: Impression) {
  return {
    id: i.id,
    tenant: i.tenant,
    placementId: i.placementId,
    listingId: i.listingId,
    advertiserId: i.advertiserId,
    publisherId: i.publisherId,
    slot: i.slot,
    priceCents: i.price,
    bidCents: i.bid,
    quality: i.quality,
    deviceId: i.deviceId,
    page: i.page,
    number: i.number,
    numberKind: i.numberKind,
    leaseStart: iso(i.leaseStart),
    leaseEnd: iso(i.leaseEnd),
    createdAt: iso(i.createdAt),
  };
}

export function callView(c: MarketplaceCall) {
  return {
    callId: c.callId,
    tenant: c.tenant,
    kind: c.kind,
    listingId: c.listingId,
    advertiserId: c.advertiserId,
    publisherId: c.publisherId,
    impressionId: c.impressionId,
    priceCents: c.price,
    minConnectedSeconds: c.minConnectedSeconds,
    startedAt: iso(c.startedAt),
    connectedAt: iso(c.connectedAt),
    qualifiesAt: iso(c.qualifiesAt),
    qualifiedAt: iso(c.qualifiedAt),
    endedAt: iso(c.endedAt),
    chargedCents: c.charged,
    refundedCents: c.refunded,
    refusal: c.refusal,
    claim: c.claim,
  };
}

export function transactionView(t: LedgerTransaction) {
  return {
    id: t.id,
    key: t.key,
    kind: t.kind,
    postings: t.postings.map((p) => ({ account: p.account, amountCents: p.amount })),
    memo: t.memo,
    meta: t.meta,
    reverses: t.reverses,
    createdAt: iso(t.createdAt),
  };
}
