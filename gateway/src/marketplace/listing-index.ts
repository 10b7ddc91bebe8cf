import { compareCandidates, type Candidate } from './auction.js';
import type { Listing, ListingStats } from './model.js';
import { qualityOf, type QualityOptions, type QualityScore } from './quality.js';
import { compileSchedule, type ZonedClock } from './zoned-time.js';

/** Why a listing cannot be placed or routed to now. */
export type Ineligibility =
  | 'paused'
  | 'archived'
  | 'outside_schedule'
  | 'daily_budget_exhausted'
  | 'insufficient_funds'
  /**
   * Not placed (only): the trunks' outbound rules of this start refuse its
   * number destination. A call to it still arrives, and is refused with
   * `number_not_allowed` and recorded (docs/marketplace.md).
   */
  | 'destination_refused';

interface Entry {
  listing: Listing;
  open: (ms: number) => boolean;
  stats: { calls: number; answered: number; qualified: number };
  quality: QualityScore;
  /** What the auction sees: rebuilt when the bid or the quality changes. */
  candidate: Candidate;
  spentDay: string;
  spent: number;
  /** Why the trunks would not dial its destination (the rule), or undefined: not placed while set. */
  refusal: string | undefined;
}

const candidateOf = (listing: Listing, quality: QualityScore): Candidate => ({
  listingId: listing.id,
  bid: listing.bid,
  quality: quality.score,
  createdAt: listing.createdAt,
});

/**
 * A bucket's entries, kept sorted best first (the auction's order): a
 * placement walks from the top and stops once it has the slots it needs, so
 * 10,000 listings in one category cost what a few do. A score change moves
 * one entry (binary search and a splice), never a re-sort.
 */
class SortedBucket {
  readonly entries: Entry[] = [];

  insert(e: Entry): void {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.entries[mid];
      if (at && compareCandidates(at.candidate, e.candidate) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.entries.splice(lo, 0, e);
  }

  remove(e: Entry): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) this.entries.splice(i, 1);
  }
}

export interface IndexOptions {
  readonly clock: ZonedClock;
  /** Zone of budget days. */
  readonly timeZone: string;
  readonly quality: QualityOptions;
  /** Why the trunks would refuse to dial the listing's destination now (`number_not_allowed: …`), if they would. */
  readonly refusal?: ((listing: Listing) => string | undefined) | undefined;
}

const bucketKey = (tenant: string, category: string, region: string) =>
  `${tenant}\u0000${category}\u0000${region}`;

/** `US-CA-SF` → `US-CA-SF`, `US-CA`, `US`, `*`: a listing for a region serves its subregions. */
export function regionChain(region: string): string[] {
  const chain: string[] = [];
  if (region !== '*') {
    const parts = region.split('-');
    for (let n = parts.length; n > 0; n -= 1) chain.push(parts.slice(0, n).join('-'));
  }
  chain.push('*');
  return chain;
}

/**
 * Every listing in memory, bucketed by (tenant, category, region) and sorted
 * by auction score within a bucket, with what eligibility needs (schedule
 * compiled to a bitmap, today's spend, quality, the advertiser's spendable
 * funds): an auction reads the top of its few buckets and never the table.
 */
export class ListingIndex {
  readonly #o: IndexOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #buckets = new Map<string, SortedBucket>();
  /** Advertiser id → what it can still spend (balance, plus the credit limit on credit). */
  readonly #funds = new Map<string, number>();

  constructor(options: IndexOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Adds or replaces a listing (keeping its stats and spend). */
  upsert(listing: Listing): void {
    const old = this.#entries.get(listing.id);
    if (old) this.#bucket(old.listing)?.remove(old);
    const stats = old?.stats ?? { calls: 0, answered: 0, qualified: 0 };
    const quality = qualityOf(stats, this.#o.quality);
    const entry: Entry = {
      listing,
      open: compileSchedule(listing.schedule, this.#o.clock),
      stats,
      quality,
      candidate: candidateOf(listing, quality),
      spentDay: old?.spentDay ?? '',
      spent: old?.spent ?? 0,
      // The rules are this start's config: checked once per change of the listing, not per auction.
      refusal: this.#o.refusal?.(listing),
    };
    this.#entries.set(listing.id, entry);
    if (listing.status === 'archived') return;
    const key = bucketKey(listing.tenant, listing.category, listing.region);
    let bucket = this.#buckets.get(key);
    if (!bucket) this.#buckets.set(key, (bucket = new SortedBucket()));
    bucket.insert(entry);
  }

  /** A new quality score: the entry moves to its new place in its bucket. */
  #rescore(e: Entry): void {
    const bucket = e.listing.status === 'archived' ? undefined : this.#bucket(e.listing);
    bucket?.remove(e);
    e.quality = qualityOf(e.stats, this.#o.quality);
    e.candidate = candidateOf(e.listing, e.quality);
    bucket?.insert(e);
  }

  get(id: string): Listing | undefined {
    return this.#entries.get(id)?.listing;
  }

  quality(id: string): QualityScore | undefined {
    return this.#entries.get(id)?.quality;
  }

  setStats(id: string, stats: ListingStats): void {
    const e = this.#entries.get(id);
    if (!e) return;
    e.stats = { ...stats };
    this.#rescore(e);
  }

  /** A call's progress, for the quality score. */
  count(id: string, what: 'calls' | 'answered' | 'qualified'): void {
    const e = this.#entries.get(id);
    if (!e) return;
    e.stats[what] += 1;
    this.#rescore(e);
  }

  setSpend(id: string, day: string, spent: number): void {
    const e = this.#entries.get(id);
    if (!e) return;
    e.spentDay = day;
    e.spent = spent;
  }

  addSpend(id: string, day: string, amount: number): void {
    const e = this.#entries.get(id);
    if (!e) return;
    if (e.spentDay !== day) {
      e.spentDay = day;
      e.spent = 0;
    }
    e.spent += amount;
  }

  spentOn(id: string, day: string): number {
    const e = this.#entries.get(id);
    return e && e.spentDay === day ? e.spent : 0;
  }

  setFunds(advertiserId: string, available: number): void {
    this.#funds.set(advertiserId, available);
  }

  funds(advertiserId: string): number {
    return this.#funds.get(advertiserId) ?? 0;
  }

  today(now: number): string {
    return this.#o.clock.day(this.#o.timeZone, now);
  }

  /** Why the listing cannot take a call now, or undefined when it can. */
  ineligibility(id: string, now: number, day = this.today(now)): Ineligibility | undefined {
    const e = this.#entries.get(id);
    if (!e) return 'archived';
    return this.#check(e, now, day);
  }

  /**
   * Why an auction would not place the listing now: why it cannot take a
   * call, or `destination_refused` (with the rule) when the trunks refuse its
   * number destination.
   */
  placement(
    id: string,
    now: number,
  ): { reason: Ineligibility; detail: string | undefined } | undefined {
    const why = this.ineligibility(id, now);
    if (why) return { reason: why, detail: undefined };
    const refusal = this.#entries.get(id)?.refusal;
    return refusal ? { reason: 'destination_refused', detail: refusal } : undefined;
  }

  #check(e: Entry, now: number, day: string): Ineligibility | undefined {
    const l = e.listing;
    if (l.status === 'archived') return 'archived';
    // A budget pause lifts by itself on the next budget day.
    if (
      l.status === 'paused' &&
      !(l.pauseReason === 'daily_budget_exhausted' && l.pausedDay !== day)
    )
      return l.pauseReason === 'manual' || l.pauseReason === null ? 'paused' : l.pauseReason;
    if (!e.open(now)) return 'outside_schedule';
    const spent = e.spentDay === day ? e.spent : 0;
    if (l.dailyBudget - spent < l.bid) return 'daily_budget_exhausted';
    if ((this.#funds.get(l.advertiserId) ?? 0) < l.bid) return 'insufficient_funds';
    return undefined;
  }

  /**
   * The eligible listings of a placement: the buckets of the category and the
   * request's region chain only, each walked best first until it has given
   * `limit` eligible listings (the best `limit` overall are among those).
   * Ineligible ones met on the way are counted by reason.
   */
  candidates(
    tenant: string,
    category: string,
    region: string,
    now: number,
    limit = Number.POSITIVE_INFINITY,
  ): { eligible: Candidate[]; excluded: Partial<Record<Ineligibility, number>> } {
    const day = this.today(now);
    const eligible: Candidate[] = [];
    const excluded: Partial<Record<Ineligibility, number>> = {};
    for (const r of regionChain(region)) {
      const bucket = this.#buckets.get(bucketKey(tenant, category, r));
      if (!bucket) continue;
      let taken = 0;
      for (const e of bucket.entries) {
        const why = this.#check(e, now, day) ?? (e.refusal ? 'destination_refused' : undefined);
        if (why) {
          excluded[why] = (excluded[why] ?? 0) + 1;
          continue;
        }
        eligible.push(e.candidate);
        taken += 1;
        if (taken >= limit) break;
      }
    }
    return { eligible, excluded };
  }

  #bucket(l: Listing): SortedBucket | undefined {
    return this.#buckets.get(bucketKey(l.tenant, l.category, l.region));
  }
}
