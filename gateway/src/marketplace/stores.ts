/**
 * Where the marketplace keeps its records: the gateway's SQLite file, or,
 * with PostgreSQL (`storage.kind: postgres`), the cluster's database for
 * everything: the directory, the impression log, the sealing key, the number
 * leases, the calls, the daily counts (reports, quality scores) and the call
 * entries.
 */
import type { SqliteDatabase } from '../storage/index.js';
import type { PgPool } from '../storage/postgres/index.js';
import type { ChunkMatch } from './call-entries/match-types.js';
import { SqliteChunkMatch } from './call-entries/sqlite-chunk-match.js';
import { SqliteCallEntryStore, type CallEntryStore } from './call-entries/store.js';
import { SqliteMarketplaceCallStore, type MarketplaceCallStore } from './call-store.js';
import { SqliteDirectoryStore, type DirectoryStore } from './directory-store.js';
import { ImpressionSeal } from './impression-seal.js';
import { SqliteImpressionStore, type ImpressionStore } from './impression-store.js';
import { LocalNumberLeases, type NumberLeases } from './number-leases.js';
import { PgCallEntryStore } from './postgres/pg-call-entry-store.js';
import { PgChunkMatch } from './postgres/pg-chunk-match.js';
import { PgMarketplaceCallStore } from './postgres/pg-call-store.js';
import { PgDirectoryStore } from './postgres/pg-directory-store.js';
import { PgImpressionStore } from './postgres/pg-impression-store.js';
import { PgNumberLeases } from './postgres/pg-number-leases.js';
import { PgReportStore } from './postgres/pg-report-store.js';
import { SqliteReportStore, type ReportStore } from './reports.js';

export interface MarketplaceStores {
  readonly directory: DirectoryStore;
  /** The shared directory (PostgreSQL only): refreshed, and asked for listings not yet known. */
  readonly pgDirectory: PgDirectoryStore | undefined;
  readonly impressions: ImpressionStore;
  /** The SQLite file's sealing key; with PostgreSQL it is read at start (`ImpressionSeal.fromPostgres`). */
  readonly seal: ImpressionSeal | undefined;
  readonly calls: MarketplaceCallStore;
  readonly entryStore: CallEntryStore;
  /** Call entries matched and stored as sets, where the log and the entries are: PostgreSQL, or SQLite in the gateway's thread. */
  readonly chunkMatch: ChunkMatch;
  readonly reports: ReportStore;
  /** A tenant's tracking-number leases (`tenantPools`). */
  leases(tenant: string, numbers: readonly string[], leaseSeconds: number): NumberLeases;
}

export function marketplaceStores(
  db: SqliteDatabase,
  pool: PgPool | undefined,
  instanceId: string | undefined,
): MarketplaceStores {
  const pgDirectory = pool ? new PgDirectoryStore(pool) : undefined;
  const impressions = pool ? new PgImpressionStore(pool) : new SqliteImpressionStore(db);
  return {
    directory: pgDirectory ?? new SqliteDirectoryStore(db),
    pgDirectory,
    impressions,
    seal: pool ? undefined : ImpressionSeal.fromDatabase(db),
    calls: pool
      ? new PgMarketplaceCallStore(pool, instanceId ?? 'gateway')
      : new SqliteMarketplaceCallStore(db),
    entryStore: pool ? new PgCallEntryStore(pool) : new SqliteCallEntryStore(db),
    chunkMatch: pool ? new PgChunkMatch(pool) : new SqliteChunkMatch(db),
    reports: pool ? new PgReportStore(pool) : new SqliteReportStore(db),
    leases: (tenant, numbers, leaseSeconds) =>
      pool
        ? new PgNumberLeases(pool, tenant, numbers, leaseSeconds, () =>
            impressions.leaseHistory(tenant),
          )
        : new LocalNumberLeases(numbers, leaseSeconds, () => impressions.leaseHistory(tenant)),
  };
}
