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
import { expandRanges } from '../numbers/session-number-pool.js';
import type { Logger } from '../observability/index.js';
import type { SqliteDatabase } from '../storage/index.js';
import { MarketplaceAccounts } from './accounts.js';
import { Billing, type QualifyResult } from './billing.js';
import { CallEntryMatcher, type MatchThreshold } from './call-entries/matcher.js';
import { SqliteCallEntryStore, type CallEntryStore } from './call-entries/store.js';
import { SqliteMarketplaceCallStore, type MarketplaceCallStore } from './call-store.js';
import { SqliteDirectoryStore } from './directory-store.js';
import { SqliteImpressionStore, type ImpressionStore } from './impression-store.js';
import { CallMatcher, type CallMatch, type InboundQuery } from './inbound-match.js';
import { ImpressionSeal } from './impression-seal.js';
import { ListingIndex } from './listing-index.js';
import { checkRouted, destinationRefusal } from './listing-checks.js';
import { dialable, sealedWebMatch, type MatchChecks } from './match-checks.js';
import type { PgCharges } from './pg-charges.js';
import { MarketplaceMetrics } from './metrics.js';
import { TrackingNumberPool } from './number-pool.js';
import { PlacementService, type TenantNumbers } from './placement.js';
import { MarketplaceRegistry, type MarketplaceEnvironment } from './registry.js';
import { SqliteReportStore, type ReportStore } from './reports.js';
import type { CallKind } from './model.js';
import { ZonedClock, isTimeZone } from './zoned-time.js';

export type MarketplaceConfig = Config['marketplace'];

/** A Parley call's marketplace attribution, as the call record's API shows it. */
export interface CallAttribution {
  readonly kind: CallKind;
  readonly listingId: string;
  readonly advertiserId: string;
  readonly publisherId: string | null;
  readonly impressionId: string | null;
  readonly priceCents: number;
  readonly qualified: boolean;
  readonly chargedCents: number;
  readonly refundedCents: number;
  /** Why the call was not put through to the listing (`number_not_allowed: …`), or null. */
  readonly refusal: string | null;
  /** An impression the caller claimed that was not taken, and why (`forged: im_…`), or null. */
  readonly claim: string | null;
}

/**
 * What the call path calls (the lead connects these to `calls/` and `trunks/`):
 *
 * 1. inbound INVITE from a trunk to a DID → {@link matchInbound}; a web call to
 *    `sip:listing.<id>@…` → {@link matchWeb}. Undefined: not the marketplace's.
 *    `routable: false`: refuse (the listing is paused, out of budget or funds,
 *    or closed; `reason` says which).
 * 2. route to `match.destination` (queue, agent, or number through a trunk);
 *    the call record should carry `match.impression?.id`, `match.listing.id`,
 *    `match.advertiserId`, `match.publisherId`.
 * 3. {@link callStarted} when the call is admitted (counts a call);
 *    {@link advertiserConnected} when the advertiser leg answers (counts an
 *    answer; answers `qualifiesAt`); {@link qualify} at `qualifiesAt` (a
 *    timer); {@link callEnded} when the call ends (charges a call whose timer
 *    was late, never one that ended short).
 */
export interface MarketplaceCallHooks {
  matchInbound(q: InboundQuery): CallMatch | undefined;
  matchWeb(q: {
    listingId: string;
    impressionId?: string;
    deviceId?: string;
    at: number;
  }): CallMatch | undefined;
  callStarted(callId: string, match: CallMatch, at: number): void;
  /** A matched call refused before its destination was dialled (`match.blocked`): recorded, not charged. */
  callRefused(callId: string, match: CallMatch, at: number): void;
  advertiserConnected(callId: string, at: number): { qualifiesAt: number } | undefined;
  qualify(callId: string, now: number): Promise<QualifyResult>;
  callEnded(callId: string, at: number): Promise<QualifyResult>;
  /**
   * All in one, for a call path that keeps its own timers: records the call
   * and its connection if not yet recorded, then {@link qualify}. The same
   * exactly-once charge (`charge:<callId>`).
   */
  qualifyCall(input: {
    callId: string;
    match: CallMatch;
    connectedAt: number;
    now: number;
  }): Promise<QualifyResult>;
}

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
   * the listings' daily spend. Without it, the SQLite file's ledger.
   */
  readonly shared?: PgCharges | undefined;
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
  readonly directory: SqliteDirectoryStore;
  /** Seals the impression references pages get, opens those web calls bring back. */
  readonly seal: ImpressionSeal;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #environment: MarketplaceEnvironment;
  readonly #numbers = new Map<string, TenantNumbers>();
  readonly #poolTenant = new Map<string, string>();
  readonly #fallbackTenant = new Map<string, string>();
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
    const directory = new SqliteDirectoryStore(o.db);
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
    this.impressions = new SqliteImpressionStore(o.db);
    this.seal = ImpressionSeal.fromDatabase(o.db);
    this.calls = new SqliteMarketplaceCallStore(o.db);
    this.entryStore = new SqliteCallEntryStore(o.db);
    this.reports = new SqliteReportStore(o.db);

    const now = this.#now();
    for (const [tenant, t] of Object.entries(o.config.tenants)) {
      if (!o.environment.tenantExists(tenant))
        throw new ParleyError('invalid_config', `marketplace.tenants.${tenant}: no such tenant`);
      let numbers: string[];
      try {
        numbers = [
          ...new Set([...expandRanges(t.trackingNumbers.ranges), ...t.trackingNumbers.numbers]),
        ];
      } catch (error) {
        throw new ParleyError(
          'invalid_config',
          `marketplace.tenants.${tenant}.trackingNumbers: ${(error as Error).message}`,
        );
      }
      for (const n of numbers) {
        const other = this.#poolTenant.get(n);
        if (other !== undefined && other !== tenant)
          throw new ParleyError(
            'invalid_config',
            `tracking number ${n} is in the pools of ${other} and ${tenant}`,
          );
        this.#poolTenant.set(n, tenant);
      }
      if (t.fallbackNumber) this.#fallbackTenant.set(t.fallbackNumber, tenant);
      checkRouted(o.environment, tenant, numbers, t.fallbackNumber);
      this.#numbers.set(tenant, {
        pool: new TrackingNumberPool(
          numbers,
          t.trackingNumbers.leaseSeconds,
          this.impressions.leaseHistory(tenant),
          now,
        ),
        leaseSeconds: t.trackingNumbers.leaseSeconds,
        fallbackNumber: t.fallbackNumber,
      });
    }
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
    const billing = this.billing;
    const matcher = this.matcher;
    const checks: MatchChecks = {
      environment: o.environment,
      seal: this.seal,
      impressions: this.impressions,
      matcher,
      metrics: this.metrics,
      log: this.#log,
    };
    this.hooks = {
      matchInbound: (q) => dialable(checks, matcher.inbound(q)),
      matchWeb: (q) => dialable(checks, sealedWebMatch(checks, q)),
      callStarted: (callId, match, at) => void billing.started(callId, match, at),
      callRefused: (callId, match, at) =>
        billing.refused(
          callId,
          match,
          at,
          match.blocked ? `${match.blocked.code}: ${match.blocked.detail}` : 'refused',
        ),
      advertiserConnected: (callId, at) => billing.connected(callId, at),
      qualify: (callId, now) => billing.qualify(callId, now),
      callEnded: (callId, at) => billing.ended(callId, at),
      qualifyCall: async ({ callId, match, connectedAt, now }) => {
        billing.started(callId, match, connectedAt);
        billing.connected(callId, connectedAt);
        return await billing.qualify(callId, now);
      },
    };
  }

  /** Loads the index, charges what a crash left due, and starts the heartbeat and housekeeping. */
  async start(): Promise<void> {
    const now = this.#now();
    const day = this.index.today(now);
    await this.registry.load(day);
    const recovered = await this.billing.recover(now);
    if (recovered.closed > 0)
      this.#log.warn(
        recovered,
        'marketplace calls left open by the last stop: closed, and charged when they had qualified',
      );
    this.registry.resumeBudgets(day);
    this.#recheckStaticNumbers();
    this.billing.heartbeat(now);
    const heartbeat = setInterval(() => this.billing.heartbeat(this.#now()), HEARTBEAT_MS);
    const housekeeping = setInterval(
      () => this.registry.resumeBudgets(this.index.today(this.#now())),
      HOUSEKEEPING_MS,
    );
    heartbeat.unref();
    housekeeping.unref();
    this.#timers.push(heartbeat, housekeeping);
    if (this.accounts.shared) {
      const refresh = setInterval(() => {
        this.#refreshShared().catch((error: unknown) =>
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

  /** What other gateways charged and deposited: the index decides placements and routing on it. */
  async #refreshShared(): Promise<void> {
    const day = this.index.today(this.#now());
    await this.registry.refreshFunds();
    await this.registry.refreshSpend(day);
    const now = this.#now();
    for (const l of this.directory.listings())
      if (l.status === 'active') this.billing.checkPause(l.id, now);
  }

  /** A listing's tenant, for a web call's token check; undefined: no such listing, or archived. */
  listingTenant(listingId: string): string | undefined {
    const listing = this.index.get(listingId) ?? this.directory.listing(listingId);
    return listing && listing.status !== 'archived' ? listing.tenant : undefined;
  }

  /**
   * What a Parley call was attributed to (`GET /v1/calls/<id>` shows it):
   * kept in the marketplace's call row, keyed by the call id, written when
   * the call was admitted. Undefined: not a marketplace call.
   */
  attribution(callId: string): CallAttribution | undefined {
    const c = this.calls.get(callId);
    if (!c) return undefined;
    return {
      kind: c.kind,
      listingId: c.listingId,
      advertiserId: c.advertiserId,
      publisherId: c.publisherId,
      impressionId: c.impressionId,
      priceCents: c.price,
      qualified: c.qualifiedAt !== null,
      chargedCents: c.charged,
      refundedCents: c.refunded,
      refusal: c.refusal,
      claim: c.claim,
    };
  }

  /**
   * Listings' static numbers were checked when written; the trunks and pools
   * of this start's config may disagree now. Said loudly, not refused: the
   * listings are data, and the calls to such a number go where the config
   * sends them (a pool's lease first).
   */
  #recheckStaticNumbers(): void {
    for (const l of this.directory.listings()) {
      if (l.status === 'archived') continue;
      // Its calls will be refused (number_not_allowed) until the destination or the rules change.
      const blocked = destinationRefusal(this.#environment, l.tenant, l.destination);
      if (blocked)
        this.#log.warn(
          { listing: l.id, code: blocked.code, detail: blocked.detail },
          "a listing's destination is refused by the trunks' outbound rules of this config",
        );
      if (l.staticNumber === null) continue;
      try {
        this.registry.checkStaticNumber(l.tenant, l.staticNumber, l.id);
      } catch (error) {
        this.#log.warn(
          { listing: l.id, detail: (error as Error).message },
          "a listing's static number no longer fits the trunks and pools of the config",
        );
      }
    }
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
  numbers(tenant: string): { size: number; leased: number } | undefined {
    const n = this.#numbers.get(tenant);
    return n ? { size: n.pool.size, leased: n.pool.leasedAt(this.#now()) } : undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
  }
}
