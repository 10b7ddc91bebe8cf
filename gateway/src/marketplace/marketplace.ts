/**
 * The marketplace module assembled: stores on the gateway's SQLite file, the
 * in-memory auction index, tracking-number pools, placements, call matching,
 * billing, call-entry sync and reports. `gateway.ts` builds one and mounts
 * its router; the call path uses {@link Marketplace.hooks}.
 */
import { isId } from './ids.js';
import type { Registry } from 'prom-client';
import { ParleyError } from '@parley/shared/errors';
import type { Config } from '../config/index.js';
import { SqliteLedgerStore } from '../ledger/index.js';
import type { Logger } from '../observability/index.js';
import type { SqliteDatabase } from '../storage/index.js';
import { MarketplaceAccounts } from './accounts.js';
import { Billing } from './billing.js';
import { CallEntryMatcher, type MatchThreshold } from './call-entries/matcher.js';
import { SqliteCallEntryStore, type CallEntryStore } from './call-entries/store.js';
import { SqliteMarketplaceCallStore, type MarketplaceCallStore } from './call-store.js';
import { SqliteDirectoryStore, type DirectoryStore } from './directory-store.js';
import type { MarketplaceEnvironment } from './environment.js';
import {
  attributionOf,
  marketplaceHooks,
  type CallAttribution,
  type MarketplaceCallHooks,
} from './hooks.js';
import { SqliteImpressionStore, type ImpressionStore } from './impression-store.js';
import { CallMatcher } from './inbound-match.js';
import { ImpressionSeal } from './impression-seal.js';
import { ListingIndex } from './listing-index.js';
import { destinationRefusal } from './listing-checks.js';
import type { PgCharges } from './pg-charges.js';
import { MarketplaceMetrics } from './metrics.js';
import { PlacementService, type TenantNumbers } from './placement.js';
import { MarketplaceRegistry } from './registry.js';
import { SqliteReportStore, type ReportStore } from './reports.js';
import { recheckListings } from './startup-checks.js';
import { tenantPools } from './tenant-pools.js';
import { LocalNumberLeases } from './number-leases.js';
import type { Listing } from './model.js';
import type { PgPool } from '../storage/postgres/index.js';
import { PgCallEntryStore } from './postgres/pg-call-entry-store.js';
import { PgMarketplaceCallStore } from './postgres/pg-call-store.js';
import { PgDirectoryStore } from './postgres/pg-directory-store.js';
import { PgImpressionStore } from './postgres/pg-impression-store.js';
import { PgNumberLeases } from './postgres/pg-number-leases.js';
import { PgReportStore } from './postgres/pg-report-store.js';
import { ZonedClock, isTimeZone } from './zoned-time.js';

export type MarketplaceConfig = Config['marketplace'];

export type { CallAttribution, MarketplaceCallHooks } from './hooks.js';

export interface MarketplaceOptions {
  /** The gateway's database, migrated with LEDGER_SCHEMA and MARKETPLACE_SCHEMA. */
  readonly db: SqliteDatabase;
  readonly config: MarketplaceConfig;
  readonly environment: MarketplaceEnvironment;
  readonly registry?: Registry | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
  /** For the crash test: runs inside each charge's transaction before the commit. */
  readonly beforeCommit?: (callId: string) => void;
  /**
   * The money in the PostgreSQL ledger every gateway shares (`storage.kind:
   * postgres`, migrated with `LEDGER_PG_MIGRATIONS` and
   * `MARKETPLACE_PG_MIGRATIONS`): balances, deposits, charges, refunds and
   * the listings' daily spend. Its database then holds the marketplace's
   * other tables too (directory, impressions, calls, daily counts, call
   * entries). Without it, the SQLite file's.
   */
  readonly shared?: PgCharges | undefined;
  /**
   * This gateway instance (`shared.instanceId`): with PostgreSQL, the calls
   * it carries are its own, and at start it recovers only those.
   */
  readonly instanceId?: string | undefined;
}

const HEARTBEAT_MS = 1000;
/** With the shared ledger: how often the index learns the funds and spend other gateways changed. */
const SHARED_REFRESH_MS = 5000;
const HOUSEKEEPING_MS = 60_000;

export class Marketplace {
  readonly config: MarketplaceConfig;
  readonly accounts: MarketplaceAccounts;
  readonly index: ListingIndex;
  readonly registry: MarketplaceRegistry;
  readonly impressions: ImpressionStore;
  readonly calls: MarketplaceCallStore;
  readonly placements: PlacementService;
  readonly matcher: CallMatcher;
  readonly billing: Billing;
  readonly entries: CallEntryMatcher;
  readonly entryStore: CallEntryStore;
  readonly reports: ReportStore;
  readonly metrics: MarketplaceMetrics | undefined;
  readonly hooks: MarketplaceCallHooks;
  readonly directory: DirectoryStore;
  readonly #pgDirectory: PgDirectoryStore | undefined;
  /** Listing ids the shared directory did not have, until when not to ask again. */
  readonly #misses = new Map<string, number>();
  readonly #pool: PgPool | undefined;
  #seal: ImpressionSeal | undefined;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #environment: MarketplaceEnvironment;
  readonly #numbers: ReadonlyMap<string, TenantNumbers>;
  readonly #poolTenant: ReadonlyMap<string, string>;
  readonly #fallbackTenant: ReadonlyMap<string, string>;
  readonly #timers: NodeJS.Timeout[] = [];
  #closed = false;

  constructor(o: MarketplaceOptions) {
    this.config = o.config;
    this.#now = o.now ?? Date.now;
    this.#environment = o.environment;
    this.#log = o.logger.child({ module: 'marketplace' });
    if (!isTimeZone(o.config.timeZone))
      throw new ParleyError(
        'invalid_config',
        `marketplace.timeZone: no time zone ${o.config.timeZone}`,
      );
    const clock = new ZonedClock();
    this.metrics = o.registry ? new MarketplaceMetrics(o.registry) : undefined;
    // With PostgreSQL (storage.kind: postgres, `o.shared`) everything is the cluster's: the
    // directory, the impression log, the sealing key, the number leases, the calls, the daily
    // counts (reports, quality scores) and the call entries.
    const pool = o.shared?.pool;
    this.#pool = pool;
    this.#pgDirectory = pool ? new PgDirectoryStore(pool) : undefined;
    const directory: DirectoryStore = this.#pgDirectory ?? new SqliteDirectoryStore(o.db);
    this.directory = directory;
    this.accounts = new MarketplaceAccounts(
      new SqliteLedgerStore(o.db),
      o.config.currency,
      o.shared,
    );
    this.index = new ListingIndex({
      clock,
      timeZone: o.config.timeZone,
      quality: o.config.quality,
      // A number destination this start's trunk rules refuse is not placed (issue 12).
      refusal: (l) => {
        const refused = destinationRefusal(o.environment, l.tenant, l.destination);
        return refused ? `${refused.code}: ${refused.detail}` : undefined;
      },
    });
    this.registry = new MarketplaceRegistry({
      store: directory,
      accounts: this.accounts,
      index: this.index,
      environment: o.environment,
      defaultSharePercent: o.config.publisherSharePercent,
      now: this.#now,
      numberUse: (n) => this.#numberUse(n),
    });
    this.impressions = pool ? new PgImpressionStore(pool) : new SqliteImpressionStore(o.db);
    this.#seal = pool ? undefined : ImpressionSeal.fromDatabase(o.db);
    this.calls = pool
      ? new PgMarketplaceCallStore(pool, o.instanceId ?? 'gateway')
      : new SqliteMarketplaceCallStore(o.db);
    this.entryStore = pool ? new PgCallEntryStore(pool) : new SqliteCallEntryStore(o.db);
    this.reports = pool ? new PgReportStore(pool) : new SqliteReportStore(o.db);

    const impressions = this.impressions;
    const pools = tenantPools(o.config, o.environment, (tenant, numbers, leaseSeconds) =>
      pool
        ? new PgNumberLeases(pool, tenant, numbers, leaseSeconds, () =>
            impressions.leaseHistory(tenant),
          )
        : new LocalNumberLeases(numbers, leaseSeconds, () => impressions.leaseHistory(tenant)),
    );
    this.#numbers = pools.numbers;
    this.#poolTenant = pools.poolTenant;
    this.#fallbackTenant = pools.fallbackTenant;
    this.placements = new PlacementService({
      index: this.index,
      impressions: this.impressions,
      numbers: (tenant) => this.#numbers.get(tenant),
      reserve: o.config.reserveCents,
      metrics: this.metrics,
      now: this.#now,
    });
    const grace = (tenant: string) =>
      o.config.tenants[tenant]?.trackingNumbers.graceSeconds ?? 3600;
    this.matcher = new CallMatcher({
      directory,
      impressions: this.impressions,
      index: this.index,
      poolTenant: (n) => this.#poolTenant.get(n),
      graceSeconds: grace,
      fallbackTenant: (n) => this.#fallbackTenant.get(n),
      staticListing: (n) => directory.listingByStaticNumber(n),
      fetchListing: this.#pgDirectory ? (id) => this.#fetchListing(id) : undefined,
    });
    this.billing = new Billing({
      calls: this.calls,
      directory,
      accounts: this.accounts,
      index: this.index,
      registry: this.registry,
      metrics: this.metrics,
      beforeCommit: o.beforeCommit,
    });
    this.entries = new CallEntryMatcher(this.impressions, this.entryStore);
    this.hooks = marketplaceHooks({
      environment: o.environment,
      // Read when a call comes (with PostgreSQL the key is read at start).
      seal: { open: (reference, find) => this.seal.open(reference, find) },
      impressions: this.impressions,
      matcher: this.matcher,
      metrics: this.metrics,
      log: this.#log,
      billing: this.billing,
    });
  }

  /** Loads the index, charges what a crash left due, and starts the heartbeat and housekeeping. */
  async start(): Promise<void> {
    const now = this.#now();
    const day = this.index.today(now);
    if (this.#pool) this.#seal = await ImpressionSeal.fromPostgres(this.#pool);
    await this.#pgDirectory?.refresh();
    for (const n of this.#numbers.values()) await n.pool.start(now);
    await this.registry.load(day, this.reports);
    const recovered = await this.billing.recover(now);
    if (recovered.closed > 0)
      this.#log.warn(
        recovered,
        'marketplace calls left open by the last stop: closed, and charged when they had qualified',
      );
    this.registry.resumeBudgets(day);
    recheckListings(this.directory.listings(), this.#environment, this.registry, this.#log);
    await this.billing.heartbeat(now);
    const heartbeat = setInterval(() => {
      this.billing
        .heartbeat(this.#now())
        .catch((error: unknown) => this.#log.warn({ err: error }, 'marketplace heartbeat failed'));
    }, HEARTBEAT_MS);
    const housekeeping = setInterval(
      () => this.registry.resumeBudgets(this.index.today(this.#now())),
      HOUSEKEEPING_MS,
    );
    heartbeat.unref();
    housekeeping.unref();
    this.#timers.push(heartbeat, housekeeping);
    if (this.accounts.shared) {
      const refresh = setInterval(() => {
        this.refreshShared().catch((error: unknown) =>
          this.#log.warn({ err: error }, 'could not read the shared funds and spend'),
        );
      }, SHARED_REFRESH_MS);
      refresh.unref();
      this.#timers.push(refresh);
    }
    this.#log.info(
      { listings: this.index.size, pools: [...this.#numbers.keys()] },
      'marketplace ready',
    );
  }

  /**
   * What other gateways made, changed, charged and deposited (every 5 s with
   * the shared stores): the index decides placements and routing on it.
   */
  async refreshShared(): Promise<void> {
    const day = this.index.today(this.#now());
    // Listings and advertisers other gateways made or changed (their status, bid, destination).
    if (this.#pgDirectory) for (const l of await this.#pgDirectory.refresh()) this.index.upsert(l);
    await this.registry.refreshFunds();
    await this.registry.refreshSpend(day);
    // The quality scores learn the calls every gateway carried (the cluster's daily counts).
    if (this.#pool)
      for (const [listingId, stats] of await this.reports.stats())
        if (this.index.get(listingId)) this.index.setStats(listingId, stats);
    const now = this.#now();
    for (const l of this.directory.listings())
      if (l.status === 'active') this.billing.checkPause(l.id, now);
  }

  /**
   * A dead gateway's marketplace calls (its lease in Redis lapsed: the
   * cluster's sweeper, `cluster/lost-gateways.ts`): closed at its last
   * heartbeat, and charged once when they had qualified before it, as its own
   * restart would. Several survivors at once: each call charged once (the key).
   */
  /** Gateways other than this one with open marketplace calls (shared stores; none with SQLite). */
  async openCallOwners(): Promise<string[]> {
    return (await this.calls.openOwners?.()) ?? [];
  }

  async recoverLost(owner: string): Promise<{ charged: number; closed: number }> {
    const recovered = await this.billing.recover(this.#now(), owner);
    if (recovered.closed > 0)
      this.#log.warn(
        { instance: owner, ...recovered },
        'closed the marketplace calls of a lost gateway',
      );
    return recovered;
  }

  /** Seals the impression references pages get, opens those web calls bring back. */
  get seal(): ImpressionSeal {
    if (!this.#seal)
      throw new Error('the marketplace is not started (its sealing key is not read)');
    return this.#seal;
  }

  /** A listing another gateway made since this one's last refresh (none with SQLite). */
  /**
   * A listing this gateway does not know, read from the shared directory. It
   * runs before a call's token is checked, so a name that cannot be a listing
   * id costs no query, and a miss is remembered for a few seconds (a stranger
   * repeating a made-up id reaches the database once).
   */
  async #fetchListing(id: string): Promise<Listing | undefined> {
    if (!isId('ls', id)) return undefined;
    const now = this.#now();
    const missed = this.#misses.get(id);
    if (missed !== undefined && missed > now) return undefined;
    const listing = await this.#pgDirectory?.fetchListing(id);
    if (!listing) {
      if (this.#misses.size >= 10_000) this.#misses.clear();
      this.#misses.set(id, now + 5_000);
      return undefined;
    }
    this.#misses.delete(id);
    if (!this.index.get(id)) await this.#learn(listing);
    return listing;
  }

  /**
   * A listing another gateway made, learnt while a call waits: the index
   * places and routes it with its own advertiser's funds and its own spend
   * today (two queries), not every advertiser's (the 5 s refresh does those).
   */
  async #learn(listing: Listing): Promise<void> {
    const day = this.index.today(this.#now());
    this.index.upsert(listing);
    const shared = this.accounts.shared;
    await Promise.all([
      this.registry.fundsChanged(listing.advertiserId),
      shared?.spent(listing.id, day).then((spent) => this.index.setSpend(listing.id, day, spent)),
    ]);
  }

  /** A listing's tenant, for a web call's token check; undefined: no such listing, or archived. */
  async listingTenant(listingId: string): Promise<string | undefined> {
    const listing =
      this.index.get(listingId) ??
      this.directory.listing(listingId) ??
      (await this.#fetchListing(listingId));
    return listing && listing.status !== 'archived' ? listing.tenant : undefined;
  }

  /**
   * What a Parley call was attributed to (`GET /v1/calls/<id>` shows it):
   * kept in the marketplace's call row, keyed by the call id, written when
   * the call was admitted. Undefined: not a marketplace call.
   */
  async attribution(callId: string): Promise<CallAttribution | undefined> {
    return (await this.attributions([callId])).get(callId);
  }

  /** {@link attribution} of many calls in one query (a page of `GET /v1/calls`). */
  async attributions(callIds: readonly string[]): Promise<Map<string, CallAttribution>> {
    const calls = await this.calls.getMany(callIds);
    return new Map([...calls].map(([id, c]) => [id, attributionOf(c)]));
  }
  /** How the marketplace hands out a number other than as a listing's static number, if it does. */
  #numberUse(number: string): string | undefined {
    const pool = this.#poolTenant.get(number);
    if (pool !== undefined)
      return `a tracking number of tenant ${pool}'s pool (leased per impression)`;
    const fallback = this.#fallbackTenant.get(number);
    if (fallback !== undefined) return `the fallback number of tenant ${fallback}`;
    return undefined;
  }

  /** The marketplace's clock (injected in tests). */
  now(): number {
    return this.#now();
  }

  tenantExists(tenant: string): boolean {
    return this.#environment.tenantExists(tenant);
  }

  /** The matching threshold of a tenant's call entries. */
  threshold(tenant: string): MatchThreshold {
    const c = this.config.tenants[tenant]?.callEntries;
    return {
      rule: c?.rule ?? 'time',
      windowSeconds: c?.windowSeconds ?? 3600,
      minDurationSeconds: c?.minDurationSeconds ?? 0,
    };
  }

  /** Tracking numbers of a tenant: pool size and leases now. */
  async numbers(tenant: string): Promise<{ size: number; leased: number } | undefined> {
    const n = this.#numbers.get(tenant);
    return n ? { size: n.pool.size, leased: await n.pool.leasedAt(this.#now()) } : undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
  }
}
