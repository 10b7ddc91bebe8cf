/**
 * The callbacks' two needs of the marketplace, over `Marketplace`: listings
 * (who the advertiser is, where it takes calls, whose number the customer
 * sees) and money (what the advertiser can spend, and the fee posted in the
 * same double-entry ledger as the per-lead charges).
 */
import { ParleyError } from '@parley/shared/errors';
import type { Marketplace, PgCharges } from '../marketplace/index.js';
import type { ListingSource } from './destinations.js';
import type { ChargeWrite } from './store.js';

/** The fee to post. */
export interface FeePosting {
  readonly key: string;
  readonly tenant: string;
  readonly advertiserId: string;
  readonly amountCents: number;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly at: number;
}

export interface FeePosted {
  readonly transactionId: number;
  readonly duplicate: boolean;
}

interface BillingBase {
  /** What the advertiser can spend now (balance, plus the credit limit on credit); undefined: no such advertiser. */
  available(advertiserId: string): number | undefined;
  /** After a charge: listings of an advertiser that cannot pay another call pause. */
  fundsChanged(advertiserId: string): void;
}

/**
 * The fee's ledger side: what `fee.ts` needs. `local`: the gateway's SQLite
 * ledger, posted inside the caller's database transaction (it commits with
 * the callback's record or not at all). `shared`: the PostgreSQL ledger of
 * every gateway (`storage.kind: postgres`), posted in its own transaction;
 * the key (unique there) makes it once across gateways and repeats.
 */
export type CallbackBilling =
  | (BillingBase & { readonly ledger: 'local'; post(input: FeePosting): FeePosted })
  | (BillingBase & {
      readonly ledger: 'shared';
      /** `writes` commit in the posting's transaction (the record's charge, PostgreSQL store). */
      post(input: FeePosting, writes?: readonly ChargeWrite[]): Promise<FeePosted>;
    });

const ADVERTISER = (id: string) => `advertiser:${id}`;
const PLATFORM = (tenant: string) => `platform:${tenant}`;

export function marketplaceListings(m: Marketplace): ListingSource {
  return {
    currency: m.config.currency,
    fallbackNumber: (tenant) => m.config.tenants[tenant]?.fallbackNumber,
    async listing(listingId, impressionId, at) {
      const match = await m.hooks.matchWeb({
        listingId,
        ...(impressionId === undefined ? {} : { impressionId }),
        at,
      });
      if (!match) return undefined;
      let advertiserName: string;
      try {
        advertiserName = m.registry.advertiser(undefined, match.advertiserId).name;
      } catch {
        return undefined;
      }
      return {
        tenant: match.tenant,
        title: match.listing.title,
        advertiserId: match.advertiserId,
        advertiserName,
        target: match.destination,
        bidCents: match.listing.bid,
        staticNumber: match.listing.staticNumber,
        unavailable: match.reason,
        openAt: (instant) => m.index.ineligibility(listingId, instant) !== 'outside_schedule',
        impressionId: match.impression?.id ?? null,
      };
    },
  };
}

/** The fee's balanced postings: the advertiser pays the platform. */
function feeInput(input: FeePosting) {
  return {
    key: input.key,
    tenant: input.tenant,
    kind: 'callback_fee',
    postings: [
      { account: ADVERTISER(input.advertiserId), amount: -input.amountCents },
      { account: PLATFORM(input.tenant), amount: input.amountCents },
    ],
    memo: 'callback connected',
    meta: input.meta,
    at: input.at,
  };
}

/**
 * Posts the fee to the ledger every gateway shares (PostgreSQL), in its own
 * transaction with `writes` (the callback's row marked charged, when the
 * callbacks are in the same database): once per key across gateways (the
 * key is unique there; a repeat runs no write).
 */
export async function postSharedFee(
  shared: PgCharges,
  input: FeePosting,
  writes: readonly ChargeWrite[] = [],
): Promise<FeePosted> {
  await shared.openAccounts(
    { tenant: input.tenant, advertiserId: input.advertiserId, publisherId: null },
    input.at,
  );
  const posted = await shared.ledger.postGuarded(feeInput(input), { writes });
  if ('refused' in posted) throw new Error(`unguarded fee refused: ${posted.refused}`);
  return { transactionId: posted.transaction.id, duplicate: posted.duplicate };
}

export function marketplaceBilling(m: Marketplace): CallbackBilling {
  const base: BillingBase = {
    available(advertiserId) {
      try {
        const advertiser = m.registry.advertiser(undefined, advertiserId);
        // With the shared ledger (storage.kind: postgres) the money is in PostgreSQL, and the
        // index holds its funds (refreshed at each change and every few seconds).
        return m.accounts.shared ? m.index.funds(advertiser.id) : m.accounts.available(advertiser);
      } catch (error) {
        if (error instanceof ParleyError && error.code === 'not_found') return undefined;
        throw error;
      }
    },
    // The index learns the new funds (from PostgreSQL with the shared ledger); again at the next change anyway.
    fundsChanged: (advertiserId) =>
      void m.registry.fundsChanged(advertiserId).catch(() => undefined),
  };
  const shared = m.accounts.shared;
  if (shared)
    return {
      ...base,
      ledger: 'shared',
      post: (input, writes) => postSharedFee(shared, input, writes),
    };
  return {
    ...base,
    ledger: 'local',
    post(input) {
      m.accounts.openTenant(input.tenant, input.at);
      const posted = m.accounts.ledger.post(feeInput(input));
      return { transactionId: posted.transaction.id, duplicate: posted.duplicate };
    },
  };
}
