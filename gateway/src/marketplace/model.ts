/**
 * The marketplace's domain (S8): advertisers buy calls through listings,
 * publishers show listings on their pages, an auction places them, and every
 * shown listing is an impression with its own tracking number (S3). Amounts
 * are integers of the currency's minor unit (cents).
 */

export type BillingMode = 'prepaid' | 'credit';

export interface Advertiser {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  /** The company's own id for this advertiser (an account under the tenant), if any. */
  readonly externalId: string | null;
  /** `prepaid`: calls while the balance pays; `credit`: the balance may go down to -creditLimit. */
  readonly billing: BillingMode;
  readonly creditLimit: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface Publisher {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  /** Public key the publisher's pages send with placement requests (not a secret). */
  readonly placementKey: string;
  /** Page origins allowed to ask for placements with that key. */
  readonly origins: readonly string[];
  readonly sharePercent: number;
  readonly status: 'active' | 'disabled';
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** When a listing takes calls: weekly windows in its time zone (`to` after `from`, same day). */
export interface Schedule {
  readonly timeZone: string;
  readonly windows: readonly { days: readonly Weekday[]; from: string; to: string }[];
}

/** Where a listing's calls go. */
export type Destination =
  | { readonly kind: 'queue'; readonly queue: string }
  | { readonly kind: 'agent'; readonly agent: string }
  | { readonly kind: 'number'; readonly number: string; readonly trunk?: string | undefined };

export type ListingStatus = 'active' | 'paused' | 'archived';

/**
 * Why a listing is paused: by hand, or by the marketplace when it cannot pay
 * (it resumes by itself: a new budget day, money added).
 */
export type PauseReason = 'manual' | 'daily_budget_exhausted' | 'insufficient_funds';

export interface Listing {
  readonly id: string;
  readonly tenant: string;
  readonly advertiserId: string;
  readonly title: string;
  readonly description: string;
  readonly category: string;
  /** `*` (anywhere) or a code like `US`, `US-CA`: a listing for `US` also serves `US-CA`. */
  readonly region: string;
  /** Null: always. */
  readonly schedule: Schedule | null;
  readonly destination: Destination;
  /** Bid per qualified call. */
  readonly bid: number;
  readonly dailyBudget: number;
  /** A call qualifies (is charged) once the advertiser leg was connected this long. */
  readonly minConnectedSeconds: number;
  /** The listing's own number: shown when the tenant's pool is exhausted, and a direct line. */
  readonly staticNumber: string | null;
  readonly status: ListingStatus;
  readonly pauseReason: PauseReason | null;
  /** For daily_budget_exhausted: the budget day it ran out. */
  readonly pausedDay: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Past calls of a listing, for its quality score. */
export interface ListingStats {
  readonly calls: number;
  readonly answered: number;
  readonly qualified: number;
}

/** One shown listing: S3's log entry (device, virtual number, lease) and S8's placement. */
export interface Impression {
  readonly id: string;
  readonly tenant: string;
  readonly placementId: string;
  readonly listingId: string;
  readonly advertiserId: string;
  readonly publisherId: string;
  readonly slot: number;
  /** The generalised second price of the slot. */
  readonly price: number;
  readonly bid: number;
  readonly quality: number;
  readonly deviceId: string;
  readonly page: string | null;
  /** Null when the pool was exhausted and neither the listing nor the tenant has a static number. */
  readonly number: string | null;
  /** `leased` from the pool, `static` (the pool was exhausted), or `none`. */
  readonly numberKind: 'leased' | 'static' | 'none';
  readonly leaseStart: number;
  readonly leaseEnd: number;
  readonly createdAt: number;
}

/** How a call found its listing. */
export type CallKind = 'tracked' | 'web' | 'direct';
