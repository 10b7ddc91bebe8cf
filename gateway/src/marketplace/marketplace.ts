/**
 * The marketplace module assembled: stores on the gateway's SQLite file, the
 * in-memory auction index, tracking-number pools, placements, call matching,
 * billing, call-entry sync and reports. `gateway.ts` builds one and mounts
 * its router; the call path uses {@link Marketplace.hooks}.
 */
import type { Registry } from 'prom-client';
import { ParleyError } from '@parley/shared/errors';
import type { Config } from '../config/index.js';
import { SqliteLedgerStore } from '../ledger/index.js';
import type { Logger } from '../observability/index.js';
import type { SqliteDatabase } from '../storage/index.js';
import { MarketplaceAccounts } from './accounts.js';
import { Billing } from './billing.js';
import type { MatchThreshold } from './call-entries/match-types.js';
import { CallEntryMatcher } from './call-entries/matcher.js';
import type { CallEntryStore } from './call-entries/store.js';
import type { MarketplaceCallStore } from './call-store.js';
import type { DirectoryStore } from './directory-store.js';
import type { MarketplaceEnvironment } from './environment.js';
import {
  attributionOf,
  marketplaceHooks,
  type CallAttribution,
  type MarketplaceCallHooks,
} from './hooks.js';
import type { ImpressionStore } from './impression-store.js';
import { CallMatcher } from './inbound-match.js';
import { ImpressionSeal } from './impression-seal.js';
import { ListingIndex } from './listing-index.js';
import { destinationRefusal } from './listing-checks.js';
import { LostMarketplaceCalls } from './lost-calls.js';
import type { PgCharges } from './pg-charges.js';
import { MarketplaceMetrics } from './metrics.js';
import { PlacementService, type TenantNumbers } from './placement.js';
import type { PgDirectoryStore } from './postgres/pg-directory-store.js';
import { MarketplaceRegistry } from './registry.js';
import type { ReportStore } from './reports.js';
import { SharedListings } from './shared-listings.js';
import { recheckListings } from './startup-checks.js';
import { marketplaceStores } from './stores.js';
import { tenantPools } from './tenant-pools.js';
import { startMarketplaceTimers } from './timers.js';
import type { PgPool } from '../storage/postgres/index.js';
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
  /** For the cluster's lost-gateway sweeper: a dead gateway's open marketplace calls. */
  readonly lost: LostMarketplaceCalls;
  readonly #pgDirectory: PgDirectoryStore | undefined;
  /** Listings other gateways made (the shared directory; none with SQLite). */
  readonly #shared: SharedListings | undefined;
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
    // With PostgreSQL (storage.kind: postgres, `o.shared`) everything is the cluster's.
    const pool = o.shared?.pool;
    this.#pool = pool;
    const stores = marketplaceStores(o.db, pool, o.instanceId);
    this.#pgDirectory = stores.pgDirectory;
    const directory = stores.directory;
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
    this.impressions = stores.impressions;
    this.#seal = stores.seal;
    this.calls = stores.calls;
    this.entryStore = stores.entryStore;
    this.reports = stores.reports;
    const shared =
      stores.pgDirectory &&
      new SharedListings({
        directory: stores.pgDirectory,
        index: this.index,
        registry: this.registry,
        accounts: this.accounts,
        now: this.#now,
      });
    this.#shared = shared;

    const pools = tenantPools(o.config, o.environment, stores.leases);
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
      fetchListing: shared && ((id) => shared.fetch(id)),
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
    this.entries = new CallEntryMatcher(this.impressions, this.entryStore, stores.chunkMatch);
    this.lost = new LostMarketplaceCalls({
      calls: this.calls,
      billing: this.billing,
      now: this.#now,
      log: this.#log,
    });
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
    this.#timers.push(
      ...startMarketplaceTimers({
        heartbeat: () => this.billing.heartbeat(this.#now()),
        housekeeping: () => this.registry.resumeBudgets(this.index.today(this.#now())),
        refreshShared: this.accounts.shared && (() => this.refreshShared()),
        log: this.#log,
      }),
    );
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

  /** Seals the impression references pages get, opens those web calls bring back. */
  get seal(): ImpressionSeal {
    if (!this.#seal)
      throw new Error('the marketplace is not started (its sealing key is not read)');
    return this.#seal;
  }

  /** A listing's tenant, for a web call's token check; undefined: no such listing, or archived. */
  async listingTenant(listingId: string): Promise<string | undefined> {
    const listing =
      this.index.get(listingId) ??
      this.directory.listing(listingId) ??
      (await this.#shared?.fetch(listingId));
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
