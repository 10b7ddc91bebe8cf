/**
 * Advertisers, publishers and listings in PostgreSQL (`storage.kind:
 * postgres`), shared by the gateways. The registry, the auction index and
 * the call path read the directory synchronously and often, so each gateway
 * keeps a copy in memory: loaded at start, refreshed every 5 s and after its
 * own changes ({@link refresh}: what other gateways wrote), and a listing it
 * does not know yet is read on demand ({@link fetchListing}: a call to a
 * listing another gateway made a moment ago). Writes change the copy at once
 * and are written to PostgreSQL in order behind it; {@link flush} waits for
 * them (the API answers after it) and reports a write the database refused.
 * Quality counts and a day's spend are the daily counts' (`pg-report-store.ts`).
 */
import type { PgPool } from '../../storage/postgres/index.js';
import {
  advertiserOf,
  listingOf,
  publisherOf,
  type AdvertiserRow,
  type DirectoryStore,
  type ListingRow,
  type PublisherRow,
} from '../directory-store.js';
import type { Advertiser, Listing, PauseReason, Publisher } from '../model.js';

const byCreation = <T extends { createdAt: number; id: string }>(a: T, b: T) =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class PgDirectoryStore implements DirectoryStore {
  readonly #pool: PgPool;
  readonly #advertisers = new Map<string, Advertiser>();
  readonly #publishers = new Map<string, Publisher>();
  readonly #listings = new Map<string, Listing>();
  /** Static number → the listings that show it (a call to a static number finds its listing at once). */
  readonly #byStatic = new Map<string, Set<string>>();
  #tail: Promise<void> = Promise.resolve();
  #failed: Error | undefined;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  /** Every change of the copy's listings goes through here (the static numbers' map follows). */
  #setListing(l: Listing): void {
    const old = this.#listings.get(l.id);
    if (old?.staticNumber && old.staticNumber !== l.staticNumber) {
      const ids = this.#byStatic.get(old.staticNumber);
      ids?.delete(l.id);
      if (ids?.size === 0) this.#byStatic.delete(old.staticNumber);
    }
    this.#listings.set(l.id, l);
    if (l.staticNumber) {
      let ids = this.#byStatic.get(l.staticNumber);
      if (!ids) this.#byStatic.set(l.staticNumber, (ids = new Set()));
      ids.add(l.id);
    }
  }

  /** Writes queued behind the copy: each lands in order; a refusal is kept for {@link flush}. */
  #write(sql: string, params: unknown[]): void {
    this.#tail = this.#tail.then(() =>
      this.#pool.query(sql, params).then(
        () => undefined,
        (error: unknown) => {
          this.#failed ??= error as Error;
        },
      ),
    );
  }

  /** Waits for the writes made so far; throws the first one PostgreSQL refused since the last flush. */
  async flush(): Promise<void> {
    await this.#tail;
    const failed = this.#failed;
    this.#failed = undefined;
    if (failed) throw failed;
  }

  /**
   * Reads the whole directory again (after this gateway's own writes landed):
   * rows another gateway wrote or changed replace the copy's when newer.
   * Answers the listings that changed, for the auction index.
   */
  async refresh(): Promise<Listing[]> {
    await this.#tail;
    const [advertisers, publishers, listings] = await Promise.all([
      this.#pool.query<AdvertiserRow>('SELECT * FROM mp_advertisers'),
      this.#pool.query<PublisherRow>('SELECT * FROM mp_publishers'),
      this.#pool.query<ListingRow>('SELECT * FROM mp_listings'),
    ]);
    for (const r of advertisers.rows) this.#take(this.#advertisers, advertiserOf(r));
    for (const r of publishers.rows) this.#take(this.#publishers, publisherOf(r));
    const changed: Listing[] = [];
    for (const r of listings.rows) {
      const l = listingOf(r);
      if (this.#take(this.#listings, l, (r) => this.#setListing(r))) changed.push(l);
    }
    return changed;
  }

  /** A listing not in the copy, read now (another gateway made it since the last refresh). */
  async fetchListing(id: string): Promise<Listing | undefined> {
    const known = this.#listings.get(id);
    if (known) return known;
    const { rows } = await this.#pool.query<ListingRow>('SELECT * FROM mp_listings WHERE id = $1', [
      id,
    ]);
    if (!rows[0]) return undefined;
    const listing = listingOf(rows[0]);
    this.#take(this.#listings, listing, (r) => this.#setListing(r));
    const { rows: owners } = await this.#pool.query<AdvertiserRow>(
      'SELECT * FROM mp_advertisers WHERE id = $1',
      [listing.advertiserId],
    );
    if (owners[0]) this.#take(this.#advertisers, advertiserOf(owners[0]));
    return listing;
  }

  /**
   * The database's row replaces the copy's unless the copy's is newer (a
   * write of this gateway made while the rows were read); at the same
   * millisecond the database's wins (this gateway's writes before the read
   * had landed). Answers whether the copy changed.
   */
  #take<T extends { id: string; updatedAt: number }>(
    map: Map<string, T>,
    row: T,
    set: (row: T) => void = (r) => map.set(r.id, r),
  ): boolean {
    const mine = map.get(row.id);
    if (mine && mine.updatedAt > row.updatedAt) return false;
    if (mine && JSON.stringify(mine) === JSON.stringify(row)) return false;
    set(row);
    return true;
  }

  atomically<T>(fn: () => T): T {
    return fn();
  }

  putAdvertiser(a: Advertiser): void {
    if (a.externalId !== null)
      for (const other of this.#advertisers.values())
        if (other.id !== a.id && other.tenant === a.tenant && other.externalId === a.externalId)
          // The registry answers this as SQLite's constraint: 409 conflict.
          throw new Error(
            'UNIQUE constraint failed: mp_advertisers.tenant, mp_advertisers.external_id',
          );
    this.#advertisers.set(a.id, a);
    this.#write(
      `INSERT INTO mp_advertisers (id, tenant, name, external_id, billing, credit_limit, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, external_id = excluded.external_id,
         billing = excluded.billing, credit_limit = excluded.credit_limit, updated_at = excluded.updated_at`,
      [a.id, a.tenant, a.name, a.externalId, a.billing, a.creditLimit, a.createdAt, a.updatedAt],
    );
  }

  advertiser(id: string): Advertiser | undefined {
    return this.#advertisers.get(id);
  }

  advertisers(tenant?: string): Advertiser[] {
    return [...this.#advertisers.values()]
      .filter((a) => tenant === undefined || a.tenant === tenant)
      .sort(byCreation);
  }

  putPublisher(p: Publisher): void {
    this.#publishers.set(p.id, p);
    this.#write(
      `INSERT INTO mp_publishers (id, tenant, name, placement_key, origins, share_percent, status, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, placement_key = excluded.placement_key,
         origins = excluded.origins, share_percent = excluded.share_percent, status = excluded.status,
         updated_at = excluded.updated_at`,
      [
        p.id,
        p.tenant,
        p.name,
        p.placementKey,
        JSON.stringify(p.origins),
        p.sharePercent,
        p.status,
        p.createdAt,
        p.updatedAt,
      ],
    );
  }

  publisher(id: string): Publisher | undefined {
    return this.#publishers.get(id);
  }

  publisherByKey(key: string): Publisher | undefined {
    for (const p of this.#publishers.values()) if (p.placementKey === key) return p;
    return undefined;
  }

  publishers(tenant?: string): Publisher[] {
    return [...this.#publishers.values()]
      .filter((p) => tenant === undefined || p.tenant === tenant)
      .sort(byCreation);
  }

  putListing(l: Listing): void {
    this.#setListing(l);
    this.#write(
      `INSERT INTO mp_listings (id, tenant, advertiser_id, title, description, category, region, schedule,
         destination, bid, daily_budget, min_connected_seconds, static_number, status, pause_reason, paused_day,
         created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
       ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description,
         category = excluded.category, region = excluded.region, schedule = excluded.schedule,
         destination = excluded.destination, bid = excluded.bid, daily_budget = excluded.daily_budget,
         min_connected_seconds = excluded.min_connected_seconds, static_number = excluded.static_number,
         status = excluded.status, pause_reason = excluded.pause_reason, paused_day = excluded.paused_day,
         updated_at = excluded.updated_at`,
      [
        l.id,
        l.tenant,
        l.advertiserId,
        l.title,
        l.description,
        l.category,
        l.region,
        l.schedule === null ? null : JSON.stringify(l.schedule),
        JSON.stringify(l.destination),
        l.bid,
        l.dailyBudget,
        l.minConnectedSeconds,
        l.staticNumber,
        l.status,
        l.pauseReason,
        l.pausedDay,
        l.createdAt,
        l.updatedAt,
      ],
    );
  }

  listing(id: string): Listing | undefined {
    return this.#listings.get(id);
  }

  listings(filter: { tenant?: string; advertiserId?: string } = {}): Listing[] {
    return [...this.#listings.values()]
      .filter(
        (l) =>
          (filter.tenant === undefined || l.tenant === filter.tenant) &&
          (filter.advertiserId === undefined || l.advertiserId === filter.advertiserId),
      )
      .sort(byCreation);
  }

  listingByStaticNumber(number: string): Listing | undefined {
    // The earliest made of the live listings showing it (as SQLite's query answers).
    let found: Listing | undefined;
    for (const id of this.#byStatic.get(number) ?? []) {
      const l = this.#listings.get(id);
      if (l && l.status !== 'archived' && (!found || byCreation(l, found) < 0)) found = l;
    }
    return found;
  }

  setListingStatus(
    id: string,
    status: Listing['status'],
    reason: PauseReason | null,
    pausedDay: string | null,
    at: number,
  ): void {
    const l = this.#listings.get(id);
    if (l) this.#setListing({ ...l, status, pauseReason: reason, pausedDay, updatedAt: at });
    this.#write(
      'UPDATE mp_listings SET status = $1, pause_reason = $2, paused_day = $3, updated_at = $4 WHERE id = $5',
      [status, reason, pausedDay, at, id],
    );
  }
}
