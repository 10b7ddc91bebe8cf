/**
 * The marketplace's directory as the API manages it: listings here,
 * advertisers and publishers in `party-registry.ts`.
 */
import { ParleyError } from '@parley/shared/errors';
import { listingCreate, listingUpdate } from './validation.js';
import { newId } from './ids.js';
import { checkDestination, checkStaticNumber } from './listing-checks.js';
import type { Listing, PauseReason } from './model.js';
import type { ReportStore } from './reports.js';
import { PartyRegistry, bad, notFound, parse, visible, type Viewer } from './party-registry.js';

export type { MarketplaceEnvironment } from './environment.js';
export type { RegistryOptions, Viewer } from './party-registry.js';

/**
 * Listings (validated whole before one write; the index follows every
 * committed change), their pauses, and the index's loading and refreshing.
 * Advertisers and publishers: {@link PartyRegistry}.
 */
export class MarketplaceRegistry extends PartyRegistry {
  /** Loads every listing and advertiser into the auction index, with the daily counts' statistics (start-up). */
  async load(day: string, counts: Pick<ReportStore, 'stats' | 'spendOn'>): Promise<void> {
    const { store, index } = this.o;
    await this.refreshFunds();
    const [stats, spend] = await Promise.all([counts.stats(), counts.spendOn(day)]);
    for (const l of store.listings()) {
      index.upsert(l);
      const s = stats.get(l.id);
      if (s) index.setStats(l.id, s);
      index.setSpend(l.id, day, spend.get(l.id) ?? 0);
    }
    await this.refreshSpend(day);
  }

  /**
   * With the shared ledger, the index learns today's spend of every listing
   * across the gateways (this gateway's own charges it learns at once). The
   * index only decides what is placed and routed: the charge itself checks
   * the budget in the database.
   */
  async refreshSpend(day: string): Promise<void> {
    const shared = this.o.accounts.shared;
    if (!shared) return;
    for (const [listingId, spent] of await shared.spentOn(day))
      if (this.o.index.get(listingId)) this.o.index.setSpend(listingId, day, spent);
  }

  // --- listings ---------------------------------------------------------

  createListing(viewer: Viewer, body: unknown): Listing {
    const input = parse(listingCreate, body);
    const advertiser = this.o.store.advertiser(input.advertiserId);
    if (!advertiser || !visible(viewer, advertiser.tenant))
      throw bad(`advertiserId: no advertiser ${input.advertiserId}`);
    checkDestination(this.o.environment, advertiser.tenant, input.destination);
    if (input.staticNumber !== undefined)
      this.checkStaticNumber(advertiser.tenant, input.staticNumber, undefined);
    const now = this.o.now();
    const listing: Listing = {
      id: newId('ls'),
      tenant: advertiser.tenant,
      advertiserId: advertiser.id,
      title: input.title,
      description: input.description,
      category: input.category,
      region: input.region,
      schedule: input.schedule as Listing['schedule'],
      destination: input.destination,
      bid: input.bidCents,
      dailyBudget: input.dailyBudgetCents,
      minConnectedSeconds: input.qualification.minConnectedSeconds,
      staticNumber: input.staticNumber ?? null,
      status: input.status,
      pauseReason: input.status === 'paused' ? 'manual' : null,
      pausedDay: null,
      createdAt: now,
      updatedAt: now,
    };
    if (listing.dailyBudget < listing.bid)
      throw bad('dailyBudgetCents must be at least bidCents (the budget could not pay one call)');
    this.o.store.putListing(listing);
    this.o.index.upsert(listing);
    return listing;
  }

  updateListing(viewer: Viewer, id: string, body: unknown): Listing {
    const input = parse(listingUpdate, body);
    const old = this.listing(viewer, id);
    if (old.status === 'archived')
      throw new ParleyError('conflict', 'the listing is archived', { expose: true });
    if (input.destination) checkDestination(this.o.environment, old.tenant, input.destination);
    if (input.staticNumber && input.staticNumber !== old.staticNumber)
      this.checkStaticNumber(old.tenant, input.staticNumber, old.id);
    const status = input.status ?? old.status;
    const manualChange = input.status !== undefined && input.status !== old.status;
    const updated: Listing = {
      ...old,
      title: input.title ?? old.title,
      description: input.description ?? old.description,
      category: input.category ?? old.category,
      region: input.region ?? old.region,
      schedule:
        input.schedule === undefined ? old.schedule : (input.schedule as Listing['schedule']),
      destination: input.destination ?? old.destination,
      bid: input.bidCents ?? old.bid,
      dailyBudget: input.dailyBudgetCents ?? old.dailyBudget,
      minConnectedSeconds: input.qualification?.minConnectedSeconds ?? old.minConnectedSeconds,
      staticNumber: input.staticNumber === undefined ? old.staticNumber : input.staticNumber,
      status,
      // Pausing by hand records "manual"; activating by hand clears any reason.
      pauseReason: manualChange ? (status === 'paused' ? 'manual' : null) : old.pauseReason,
      pausedDay: manualChange ? null : old.pausedDay,
      updatedAt: this.o.now(),
    };
    if (updated.dailyBudget < updated.bid)
      throw bad('dailyBudgetCents must be at least bidCents (the budget could not pay one call)');
    this.o.store.putListing(updated);
    this.o.index.upsert(updated);
    return updated;
  }

  listing(viewer: Viewer, id: string): Listing {
    const l = this.o.store.listing(id);
    if (!l || !visible(viewer, l.tenant)) throw notFound('listing');
    return l;
  }

  listings(viewer: Viewer, advertiserId?: string): Listing[] {
    return this.o.store.listings({
      ...(viewer === undefined ? {} : { tenant: viewer }),
      ...(advertiserId === undefined ? {} : { advertiserId }),
    });
  }

  protected override resumeFunded(advertiserId: string, available: number): void {
    for (const l of this.o.store.listings({ advertiserId })) {
      if (l.status === 'paused' && l.pauseReason === 'insufficient_funds' && available >= l.bid)
        this.#setStatus(l, 'active', null, null);
    }
  }

  /** The marketplace pauses a listing that cannot pay (with the reason), at most once per reason. */
  pauseForFunds(listingId: string, reason: Exclude<PauseReason, 'manual'>, day: string): void {
    const l = this.o.store.listing(listingId);
    if (!l || l.status !== 'active') return;
    this.#setStatus(l, 'paused', reason, reason === 'daily_budget_exhausted' ? day : null);
  }

  /** Listings paused by a budget day that has passed go back to active (run each minute). */
  resumeBudgets(day: string): number {
    let resumed = 0;
    for (const l of this.o.store.listings()) {
      if (
        l.status === 'paused' &&
        l.pauseReason === 'daily_budget_exhausted' &&
        l.pausedDay !== day
      ) {
        this.#setStatus(l, 'active', null, null);
        resumed += 1;
      }
    }
    return resumed;
  }

  #setStatus(
    l: Listing,
    status: Listing['status'],
    reason: PauseReason | null,
    day: string | null,
  ) {
    const at = this.o.now();
    this.o.store.setListingStatus(l.id, status, reason, day, at);
    this.o.index.upsert({ ...l, status, pauseReason: reason, pausedDay: day, updatedAt: at });
  }

  /** Throws when a listing may not show this static number (listing-checks.ts). */
  checkStaticNumber(tenant: string, number: string, listingId: string | undefined): void {
    checkStaticNumber(
      this.o.environment,
      {
        listingByStaticNumber: (n) => this.o.store.listingByStaticNumber(n),
        marketplaceUse: (n) => this.o.numberUse?.(n),
      },
      tenant,
      number,
      listingId,
    );
  }
}
