/**
 * Advertisers, publishers and listings as the API manages them: every input is
 * validated whole (fields, tenant, destination) before one atomic write, so a
 * refused request leaves nothing behind; the in-memory auction index follows
 * every committed change.
 */
import type { z } from 'zod';
import { ParleyError } from '@parley/shared/errors';
import { accountId, type MarketplaceAccounts } from './accounts.js';
import type { DirectoryStore } from './directory-store.js';
import { newId, newPlacementKey } from './ids.js';
import type { ListingIndex } from './listing-index.js';
import { checkDestination, checkStaticNumber } from './listing-checks.js';
import type { Advertiser, Listing, PauseReason, Publisher } from './model.js';
import {
  advertiserCreate,
  advertiserUpdate,
  depositSchema,
  describeIssue,
  listingCreate,
  listingUpdate,
  publisherCreate,
  publisherUpdate,
} from './validation.js';

/** What the registry asks of the rest of the gateway (config, agents, trunks). */
export interface MarketplaceEnvironment {
  tenantExists(tenant: string): boolean;
  /** The tenant of a queue, or undefined for no such queue. */
  queueTenant(queue: string): string | undefined;
  /** The tenant of an agent, or undefined for no such agent. */
  agentTenant(agent: string): string | undefined;
  /**
   * Why the trunk (named, else the tenant's default) would not call this number
   * for the tenant (`trunks.<id>.outbound`: tenants, deny and allow prefixes),
   * or undefined when it would. Absent without the trunks module: a
   * destination naming a trunk is then refused.
   */
  outboundRefusal?(
    tenant: string,
    trunk: string | undefined,
    number: string,
  ):
    | { readonly rule: string; readonly kind: 'tenant' | 'number'; readonly detail: string }
    | undefined;
  /**
   * The trunk and tenant an inbound number (a DID) reaches the gateway
   * through, or undefined when no trunk lists it. With it, start-up refuses a
   * tracking number (or fallback number) that no trunk of its tenant would
   * route: its calls would never arrive.
   */
  inboundNumber?(number: string): { readonly trunk: string; readonly tenant: string } | undefined;
}

export interface RegistryOptions {
  readonly store: DirectoryStore;
  readonly accounts: MarketplaceAccounts;
  readonly index: ListingIndex;
  readonly environment: MarketplaceEnvironment;
  readonly defaultSharePercent: number;
  readonly now: () => number;
  /** Numbers the marketplace hands out otherwise (tracking pools, fallback numbers): not static numbers. */
  readonly numberUse?: ((number: string) => string | undefined) | undefined;
}

const bad = (detail: string) => new ParleyError('bad_request', detail, { expose: true });
const notFound = (what: string) =>
  new ParleyError('not_found', `no such ${what}`, { expose: true });

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw bad(describeIssue(parsed.error));
  return parsed.data;
}

/** Who asks: a key bound to one tenant sees only that tenant. */
export type Viewer = string | undefined;
const visible = (viewer: Viewer, tenant: string) => viewer === undefined || viewer === tenant;

export class MarketplaceRegistry {
  readonly #o: RegistryOptions;

  constructor(options: RegistryOptions) {
    this.#o = options;
  }

  /** Loads every listing and advertiser into the auction index (start-up). */
  async load(day: string): Promise<void> {
    const { store, index } = this.#o;
    await this.refreshFunds();
    const stats = store.stats();
    const spend = store.spendOn(day);
    for (const l of store.listings()) {
      index.upsert(l);
      const s = stats.get(l.id);
      if (s) index.setStats(l.id, s);
      index.setSpend(l.id, day, spend.get(l.id) ?? 0);
    }
    await this.refreshSpend(day);
  }

  /**
   * The index learns every advertiser's funds from the ledger that holds the
   * money (with the shared ledger, in one query: what other gateways charged
   * and deposited), and listings paused for want of funds resume.
   */
  async refreshFunds(): Promise<void> {
    const { store, accounts } = this.#o;
    const balances = accounts.shared ? await accounts.shared.advertiserBalances() : undefined;
    for (const a of store.advertisers()) {
      const available =
        balances === undefined
          ? await accounts.availableNow(a)
          : (balances.get(accountId.advertiser(a.id)) ?? 0) +
            (a.billing === 'credit' ? a.creditLimit : 0);
      this.#applyFunds(a, available);
    }
  }

  /**
   * With the shared ledger, the index learns today's spend of every listing
   * across the gateways (this gateway's own charges it learns at once). The
   * index only decides what is placed and routed: the charge itself checks
   * the budget in the database.
   */
  async refreshSpend(day: string): Promise<void> {
    const shared = this.#o.accounts.shared;
    if (!shared) return;
    for (const [listingId, spent] of await shared.spentOn(day))
      if (this.#o.index.get(listingId)) this.#o.index.setSpend(listingId, day, spent);
  }

  // --- advertisers ------------------------------------------------------

  async createAdvertiser(viewer: Viewer, body: unknown): Promise<Advertiser> {
    const input = parse(advertiserCreate, body);
    const tenant = this.#tenantFor(viewer, input.tenant);
    const now = this.#o.now();
    const advertiser: Advertiser = {
      id: newId('ad'),
      tenant,
      name: input.name,
      externalId: input.externalId ?? null,
      billing: input.billing,
      creditLimit: input.creditLimitCents ?? 0,
      createdAt: now,
      updatedAt: now,
    };
    this.#unique(() =>
      this.#o.store.atomically(() => {
        this.#o.store.putAdvertiser(advertiser);
        this.#o.accounts.openAdvertiser(advertiser);
        if (input.initialBalanceCents && !this.#o.accounts.shared)
          this.#o.accounts.deposit(
            advertiser,
            input.initialBalanceCents,
            'initial',
            'initial balance',
            now,
          );
      }),
    );
    await this.#o.accounts.openShared(
      tenant,
      [{ id: accountId.advertiser(advertiser.id), kind: 'advertiser' }],
      now,
    );
    if (input.initialBalanceCents && this.#o.accounts.shared)
      await this.#o.accounts.depositNow(
        advertiser,
        input.initialBalanceCents,
        'initial',
        'initial balance',
        now,
      );
    this.#o.index.setFunds(advertiser.id, await this.#o.accounts.availableNow(advertiser));
    return advertiser;
  }

  async updateAdvertiser(viewer: Viewer, id: string, body: unknown): Promise<Advertiser> {
    const input = parse(advertiserUpdate, body);
    const old = this.advertiser(viewer, id);
    const billing = input.billing ?? old.billing;
    if (billing === 'prepaid' && input.creditLimitCents !== undefined)
      throw bad('creditLimitCents needs billing "credit"');
    const updated: Advertiser = {
      ...old,
      name: input.name ?? old.name,
      externalId: input.externalId === undefined ? old.externalId : input.externalId,
      billing,
      creditLimit: billing === 'prepaid' ? 0 : (input.creditLimitCents ?? old.creditLimit),
      updatedAt: this.#o.now(),
    };
    this.#unique(() => this.#o.store.putAdvertiser(updated));
    await this.fundsChanged(updated.id);
    return updated;
  }

  advertiser(viewer: Viewer, id: string): Advertiser {
    const a = this.#o.store.advertiser(id);
    if (!a || !visible(viewer, a.tenant)) throw notFound('advertiser');
    return a;
  }

  advertisers(viewer: Viewer): Advertiser[] {
    return this.#o.store.advertisers(viewer);
  }

  async deposit(viewer: Viewer, id: string, body: unknown, headerKey: string | undefined) {
    const input = parse(depositSchema, body);
    const advertiser = this.advertiser(viewer, id);
    const key = input.key ?? headerKey;
    if (key === undefined)
      throw bad('a deposit needs an idempotency key (key field or Idempotency-Key header)');
    const result = await this.#o.accounts.depositNow(
      advertiser,
      input.amountCents,
      key,
      input.memo,
      this.#o.now(),
    );
    await this.fundsChanged(advertiser.id);
    return result;
  }

  /**
   * The advertiser's funds changed (a deposit, a charge, a refund, a new
   * credit limit): the index learns them, and listings paused for want of
   * funds resume when the money is there.
   */
  async fundsChanged(advertiserId: string): Promise<void> {
    const a = this.#o.store.advertiser(advertiserId);
    if (!a) return;
    this.#applyFunds(a, await this.#o.accounts.availableNow(a));
  }

  #applyFunds(a: Advertiser, available: number): void {
    this.#o.index.setFunds(a.id, available);
    for (const l of this.#o.store.listings({ advertiserId: a.id })) {
      if (l.status === 'paused' && l.pauseReason === 'insufficient_funds' && available >= l.bid)
        this.#setStatus(l, 'active', null, null);
    }
  }

  // --- publishers -------------------------------------------------------

  async createPublisher(viewer: Viewer, body: unknown): Promise<Publisher> {
    const input = parse(publisherCreate, body);
    const tenant = this.#tenantFor(viewer, input.tenant);
    const now = this.#o.now();
    const publisher: Publisher = {
      id: newId('pb'),
      tenant,
      name: input.name,
      placementKey: newPlacementKey(),
      origins: input.origins,
      sharePercent: input.sharePercent ?? this.#o.defaultSharePercent,
      status: 'active',
      createdAt: now,
      updatedAt: now,
    };
    this.#o.store.atomically(() => {
      this.#o.store.putPublisher(publisher);
      this.#o.accounts.openPublisher(tenant, publisher.id, now);
    });
    await this.#o.accounts.openShared(
      tenant,
      [{ id: accountId.publisher(publisher.id), kind: 'publisher' }],
      now,
    );
    return publisher;
  }

  updatePublisher(viewer: Viewer, id: string, body: unknown): Publisher {
    const input = parse(publisherUpdate, body);
    const old = this.publisher(viewer, id);
    const updated: Publisher = {
      ...old,
      name: input.name ?? old.name,
      origins: input.origins ?? old.origins,
      sharePercent: input.sharePercent ?? old.sharePercent,
      status: input.status ?? old.status,
      placementKey: input.rotateKey ? newPlacementKey() : old.placementKey,
      updatedAt: this.#o.now(),
    };
    this.#o.store.putPublisher(updated);
    return updated;
  }

  publisher(viewer: Viewer, id: string): Publisher {
    const p = this.#o.store.publisher(id);
    if (!p || !visible(viewer, p.tenant)) throw notFound('publisher');
    return p;
  }

  publishers(viewer: Viewer): Publisher[] {
    return this.#o.store.publishers(viewer);
  }

  publisherByKey(key: string): Publisher | undefined {
    return this.#o.store.publisherByKey(key);
  }

  // --- listings ---------------------------------------------------------

  createListing(viewer: Viewer, body: unknown): Listing {
    const input = parse(listingCreate, body);
    const advertiser = this.#o.store.advertiser(input.advertiserId);
    if (!advertiser || !visible(viewer, advertiser.tenant))
      throw bad(`advertiserId: no advertiser ${input.advertiserId}`);
    checkDestination(this.#o.environment, advertiser.tenant, input.destination);
    if (input.staticNumber !== undefined)
      this.checkStaticNumber(advertiser.tenant, input.staticNumber, undefined);
    const now = this.#o.now();
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
    this.#o.store.putListing(listing);
    this.#o.index.upsert(listing);
    return listing;
  }

  updateListing(viewer: Viewer, id: string, body: unknown): Listing {
    const input = parse(listingUpdate, body);
    const old = this.listing(viewer, id);
    if (old.status === 'archived')
      throw new ParleyError('conflict', 'the listing is archived', { expose: true });
    if (input.destination) checkDestination(this.#o.environment, old.tenant, input.destination);
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
      updatedAt: this.#o.now(),
    };
    if (updated.dailyBudget < updated.bid)
      throw bad('dailyBudgetCents must be at least bidCents (the budget could not pay one call)');
    this.#o.store.putListing(updated);
    this.#o.index.upsert(updated);
    return updated;
  }

  listing(viewer: Viewer, id: string): Listing {
    const l = this.#o.store.listing(id);
    if (!l || !visible(viewer, l.tenant)) throw notFound('listing');
    return l;
  }

  listings(viewer: Viewer, advertiserId?: string): Listing[] {
    return this.#o.store.listings({
      ...(viewer === undefined ? {} : { tenant: viewer }),
      ...(advertiserId === undefined ? {} : { advertiserId }),
    });
  }

  /** The marketplace pauses a listing that cannot pay (with the reason), at most once per reason. */
  pauseForFunds(listingId: string, reason: Exclude<PauseReason, 'manual'>, day: string): void {
    const l = this.#o.store.listing(listingId);
    if (!l || l.status !== 'active') return;
    this.#setStatus(l, 'paused', reason, reason === 'daily_budget_exhausted' ? day : null);
  }

  /** Listings paused by a budget day that has passed go back to active (run each minute). */
  resumeBudgets(day: string): number {
    let resumed = 0;
    for (const l of this.#o.store.listings()) {
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
    const at = this.#o.now();
    this.#o.store.setListingStatus(l.id, status, reason, day, at);
    this.#o.index.upsert({ ...l, status, pauseReason: reason, pausedDay: day, updatedAt: at });
  }

  #tenantFor(viewer: Viewer, requested: string | undefined): string {
    if (viewer !== undefined) {
      if (requested !== undefined && requested !== viewer)
        throw new ParleyError('forbidden', 'this API key is bound to another tenant', {
          expose: true,
        });
      return viewer;
    }
    if (requested === undefined)
      throw bad('tenant: required with an API key not bound to a tenant');
    if (!this.#o.environment.tenantExists(requested)) throw bad(`tenant: no tenant ${requested}`);
    return requested;
  }

  /** Throws when a listing may not show this static number (listing-checks.ts). */
  checkStaticNumber(tenant: string, number: string, listingId: string | undefined): void {
    checkStaticNumber(
      this.#o.environment,
      {
        listingByStaticNumber: (n) => this.#o.store.listingByStaticNumber(n),
        marketplaceUse: (n) => this.#o.numberUse?.(n),
      },
      tenant,
      number,
      listingId,
    );
  }

  #unique<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof Error && /UNIQUE constraint failed: mp_advertisers/.test(error.message))
        throw new ParleyError('conflict', 'externalId: another advertiser of the tenant has it', {
          expose: true,
        });
      throw error;
    }
  }
}
