import type { SqliteDatabase } from '../storage/index.js';
import type {
  Advertiser,
  Destination,
  Listing,
  PauseReason,
  Publisher,
  Schedule,
} from './model.js';

/**
 * Advertisers, publishers and listings: SQLite (one gateway), or PostgreSQL
 * with a copy in each gateway's memory (`postgres/pg-directory-store.ts`).
 * Writes are whole rows: the registry validates first, then writes once.
 */
export interface DirectoryStore {
  /**
   * Waits until the writes made so far are in the database (with PostgreSQL
   * they land behind the gateway's copy) and throws one it refused; SQLite
   * writes at once.
   */
  flush?(): Promise<void>;
  /** Runs `fn` in one database transaction (a failure leaves nothing). */
  atomically<T>(fn: () => T): T;
  putAdvertiser(a: Advertiser): void;
  advertiser(id: string): Advertiser | undefined;
  advertisers(tenant?: string): Advertiser[];
  putPublisher(p: Publisher): void;
  publisher(id: string): Publisher | undefined;
  publisherByKey(key: string): Publisher | undefined;
  publishers(tenant?: string): Publisher[];
  putListing(l: Listing): void;
  listing(id: string): Listing | undefined;
  listings(filter?: { tenant?: string; advertiserId?: string }): Listing[];
  /** The live (not archived) listing with this static number, if any. */
  listingByStaticNumber(number: string): Listing | undefined;
  setListingStatus(
    id: string,
    status: Listing['status'],
    reason: PauseReason | null,
    pausedDay: string | null,
    at: number,
  ): void;
}

export interface AdvertiserRow {
  id: string;
  tenant: string;
  name: string;
  external_id: string | null;
  billing: 'prepaid' | 'credit';
  credit_limit: number;
  created_at: number;
  updated_at: number;
}
export interface PublisherRow {
  id: string;
  tenant: string;
  name: string;
  placement_key: string;
  origins: string;
  share_percent: number;
  status: 'active' | 'disabled';
  created_at: number;
  updated_at: number;
}
export interface ListingRow {
  id: string;
  tenant: string;
  advertiser_id: string;
  title: string;
  description: string;
  category: string;
  region: string;
  schedule: string | null;
  destination: string;
  bid: number;
  daily_budget: number;
  min_connected_seconds: number;
  static_number: string | null;
  status: Listing['status'];
  pause_reason: PauseReason | null;
  paused_day: string | null;
  created_at: number;
  updated_at: number;
}

export const advertiserOf = (r: AdvertiserRow): Advertiser => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  externalId: r.external_id,
  billing: r.billing,
  creditLimit: r.credit_limit,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
export const publisherOf = (r: PublisherRow): Publisher => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  placementKey: r.placement_key,
  origins: JSON.parse(r.origins) as string[],
  sharePercent: r.share_percent,
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
export const listingOf = (r: ListingRow): Listing => ({
  id: r.id,
  tenant: r.tenant,
  advertiserId: r.advertiser_id,
  title: r.title,
  description: r.description,
  category: r.category,
  region: r.region,
  schedule: r.schedule === null ? null : (JSON.parse(r.schedule) as Schedule),
  destination: JSON.parse(r.destination) as Destination,
  bid: r.bid,
  dailyBudget: r.daily_budget,
  minConnectedSeconds: r.min_connected_seconds,
  staticNumber: r.static_number,
  status: r.status,
  pauseReason: r.pause_reason,
  pausedDay: r.paused_day,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class SqliteDirectoryStore implements DirectoryStore {
  readonly #db: SqliteDatabase;
  readonly #s;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#s = {
      putAdvertiser: db.prepare(
        `INSERT INTO mp_advertisers (id, tenant, name, external_id, billing, credit_limit, created_at, updated_at)
         VALUES (@id, @tenant, @name, @externalId, @billing, @creditLimit, @createdAt, @updatedAt)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, external_id = excluded.external_id,
           billing = excluded.billing, credit_limit = excluded.credit_limit, updated_at = excluded.updated_at`,
      ),
      advertiser: db.prepare<[string], AdvertiserRow>('SELECT * FROM mp_advertisers WHERE id = ?'),
      putPublisher: db.prepare(
        `INSERT INTO mp_publishers (id, tenant, name, placement_key, origins, share_percent, status, created_at, updated_at)
         VALUES (@id, @tenant, @name, @placementKey, @origins, @sharePercent, @status, @createdAt, @updatedAt)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, placement_key = excluded.placement_key,
           origins = excluded.origins, share_percent = excluded.share_percent, status = excluded.status,
           updated_at = excluded.updated_at`,
      ),
      publisher: db.prepare<[string], PublisherRow>('SELECT * FROM mp_publishers WHERE id = ?'),
      publisherByKey: db.prepare<[string], PublisherRow>(
        'SELECT * FROM mp_publishers WHERE placement_key = ?',
      ),
      putListing: db.prepare(
        `INSERT INTO mp_listings (id, tenant, advertiser_id, title, description, category, region, schedule,
           destination, bid, daily_budget, min_connected_seconds, static_number, status, pause_reason, paused_day,
           created_at, updated_at)
         VALUES (@id, @tenant, @advertiserId, @title, @description, @category, @region, @schedule, @destination,
           @bid, @dailyBudget, @minConnectedSeconds, @staticNumber, @status, @pauseReason, @pausedDay,
           @createdAt, @updatedAt)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description,
           category = excluded.category, region = excluded.region, schedule = excluded.schedule,
           destination = excluded.destination, bid = excluded.bid, daily_budget = excluded.daily_budget,
           min_connected_seconds = excluded.min_connected_seconds, static_number = excluded.static_number,
           status = excluded.status, pause_reason = excluded.pause_reason, paused_day = excluded.paused_day,
           updated_at = excluded.updated_at`,
      ),
      listing: db.prepare<[string], ListingRow>('SELECT * FROM mp_listings WHERE id = ?'),
      byStatic: db.prepare<[string], ListingRow>(
        "SELECT * FROM mp_listings WHERE static_number = ? AND status <> 'archived' ORDER BY created_at LIMIT 1",
      ),
      setStatus: db.prepare(
        'UPDATE mp_listings SET status = ?, pause_reason = ?, paused_day = ?, updated_at = ? WHERE id = ?',
      ),
    };
  }

  atomically<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  putAdvertiser(a: Advertiser): void {
    this.#s.putAdvertiser.run(a);
  }

  advertiser(id: string): Advertiser | undefined {
    const row = this.#s.advertiser.get(id);
    return row ? advertiserOf(row) : undefined;
  }

  advertisers(tenant?: string): Advertiser[] {
    return this.#db
      .prepare<string[], AdvertiserRow>(
        `SELECT * FROM mp_advertisers ${tenant === undefined ? '' : 'WHERE tenant = ?'} ORDER BY created_at, id`,
      )
      .all(...(tenant === undefined ? [] : [tenant]))
      .map(advertiserOf);
  }

  putPublisher(p: Publisher): void {
    this.#s.putPublisher.run({ ...p, origins: JSON.stringify(p.origins) });
  }

  publisher(id: string): Publisher | undefined {
    const row = this.#s.publisher.get(id);
    return row ? publisherOf(row) : undefined;
  }

  publisherByKey(key: string): Publisher | undefined {
    const row = this.#s.publisherByKey.get(key);
    return row ? publisherOf(row) : undefined;
  }

  publishers(tenant?: string): Publisher[] {
    return this.#db
      .prepare<string[], PublisherRow>(
        `SELECT * FROM mp_publishers ${tenant === undefined ? '' : 'WHERE tenant = ?'} ORDER BY created_at, id`,
      )
      .all(...(tenant === undefined ? [] : [tenant]))
      .map(publisherOf);
  }

  putListing(l: Listing): void {
    this.#s.putListing.run({
      ...l,
      schedule: l.schedule === null ? null : JSON.stringify(l.schedule),
      destination: JSON.stringify(l.destination),
    });
  }

  listing(id: string): Listing | undefined {
    const row = this.#s.listing.get(id);
    return row ? listingOf(row) : undefined;
  }

  listings(filter: { tenant?: string; advertiserId?: string } = {}): Listing[] {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.tenant !== undefined) {
      where.push('tenant = ?');
      params.push(filter.tenant);
    }
    if (filter.advertiserId !== undefined) {
      where.push('advertiser_id = ?');
      params.push(filter.advertiserId);
    }
    return this.#db
      .prepare<string[], ListingRow>(
        `SELECT * FROM mp_listings ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`,
      )
      .all(...params)
      .map(listingOf);
  }

  listingByStaticNumber(number: string): Listing | undefined {
    const row = this.#s.byStatic.get(number);
    return row ? listingOf(row) : undefined;
  }

  setListingStatus(
    id: string,
    status: Listing['status'],
    reason: PauseReason | null,
    pausedDay: string | null,
    at: number,
  ): void {
    this.#s.setStatus.run(status, reason, pausedDay, at, id);
  }
}
