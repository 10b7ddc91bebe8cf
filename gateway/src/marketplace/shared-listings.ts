/**
 * Listings another gateway of the cluster made since this one's last
 * refresh (with PostgreSQL's shared directory; none with SQLite), read when
 * a call names one this gateway does not know.
 */
import { isId } from './ids.js';
import type { MarketplaceAccounts } from './accounts.js';
import type { ListingIndex } from './listing-index.js';
import type { Listing } from './model.js';
import type { PgDirectoryStore } from './postgres/pg-directory-store.js';
import type { MarketplaceRegistry } from './registry.js';

/** How long a listing id the shared directory did not have is not asked again. */
const MISS_MS = 5_000;
/** Remembered misses at most (then forgotten at once). */
const MAX_MISSES = 10_000;

export class SharedListings {
  readonly #directory: PgDirectoryStore;
  readonly #index: ListingIndex;
  readonly #registry: MarketplaceRegistry;
  readonly #accounts: MarketplaceAccounts;
  readonly #now: () => number;
  /** Listing ids the shared directory did not have, until when not to ask again. */
  readonly #misses = new Map<string, number>();

  constructor(o: {
    readonly directory: PgDirectoryStore;
    readonly index: ListingIndex;
    readonly registry: MarketplaceRegistry;
    readonly accounts: MarketplaceAccounts;
    readonly now: () => number;
  }) {
    this.#directory = o.directory;
    this.#index = o.index;
    this.#registry = o.registry;
    this.#accounts = o.accounts;
    this.#now = o.now;
  }

  /**
   * A listing this gateway does not know, read from the shared directory. It
   * runs before a call's token is checked, so a name that cannot be a listing
   * id costs no query, and a miss is remembered for a few seconds (a stranger
   * repeating a made-up id reaches the database once).
   */
  async fetch(id: string): Promise<Listing | undefined> {
    if (!isId('ls', id)) return undefined;
    const now = this.#now();
    const missed = this.#misses.get(id);
    if (missed !== undefined && missed > now) return undefined;
    const listing = await this.#directory.fetchListing(id);
    if (!listing) {
      if (this.#misses.size >= MAX_MISSES) this.#misses.clear();
      this.#misses.set(id, now + MISS_MS);
      return undefined;
    }
    this.#misses.delete(id);
    if (!this.#index.get(id)) await this.#learn(listing);
    return listing;
  }

  /**
   * A listing another gateway made, learnt while a call waits: the index
   * places and routes it with its own advertiser's funds and its own spend
   * today (two queries), not every advertiser's (the 5 s refresh does those).
   */
  async #learn(listing: Listing): Promise<void> {
    const day = this.#index.today(this.#now());
    this.#index.upsert(listing);
    const shared = this.#accounts.shared;
    await Promise.all([
      this.#registry.fundsChanged(listing.advertiserId),
      shared?.spent(listing.id, day).then((spent) => this.#index.setSpend(listing.id, day, spent)),
    ]);
  }
}
