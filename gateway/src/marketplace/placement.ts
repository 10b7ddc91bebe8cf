/**
 * A placement: the auction over the eligible listings of a category and
 * region, a tracking number leased for each shown listing, and everything
 * logged (the decision with its scores and prices, one impression per slot)
 * before the answer leaves.
 */
import { runAuction } from './auction.js';
import type { ImpressionStore } from './impression-store.js';
import { newId } from './ids.js';
import type { ListingIndex } from './listing-index.js';
import type { MarketplaceMetrics } from './metrics.js';
import type { Impression, Listing, Publisher } from './model.js';
import type { NumberLeases } from './number-leases.js';

export interface PlacementRequest {
  readonly publisher: Publisher;
  readonly category: string;
  readonly region: string;
  readonly slots: number;
  readonly deviceId: string;
  readonly page: string | null;
}

export interface PlacedSlot {
  readonly slot: number;
  readonly impressionId: string;
  readonly listing: Pick<Listing, 'id' | 'title' | 'description' | 'category' | 'region'>;
  readonly price: number;
  /** The number to show (leased, or static when the pool was exhausted), or null. */
  readonly number: string | null;
  readonly numberKind: Impression['numberKind'];
  readonly leaseStart: number;
  readonly leaseEnd: number;
}

export interface PlacementResult {
  readonly placementId: string;
  readonly slots: readonly PlacedSlot[];
}

export interface TenantNumbers {
  readonly pool: NumberLeases;
  readonly leaseSeconds: number;
  readonly fallbackNumber: string | undefined;
}

export interface PlacementOptions {
  readonly index: ListingIndex;
  readonly impressions: ImpressionStore;
  readonly numbers: (tenant: string) => TenantNumbers | undefined;
  readonly reserve: number;
  readonly metrics?: MarketplaceMetrics | undefined;
  readonly now: () => number;
}

interface HeldLease {
  readonly number: string;
  readonly end: number;
}

export class PlacementService {
  readonly #o: PlacementOptions;
  /**
   * Leases a device already holds, per publisher, device and listing: a
   * reload shows the same number instead of draining the pool.
   */
  readonly #held = new Map<string, HeldLease>();

  constructor(options: PlacementOptions) {
    this.#o = options;
  }

  async place(request: PlacementRequest): Promise<PlacementResult> {
    const { index, impressions, metrics } = this.#o;
    const now = this.#o.now();
    const tenant = request.publisher.tenant;
    const started = performance.now();
    // slots + 1: the listing after the last slot prices it.
    const { eligible, excluded } = index.candidates(
      tenant,
      request.category,
      request.region,
      now,
      request.slots + 1,
    );
    const decision = runAuction(eligible, request.slots, this.#o.reserve);
    metrics?.auctionSeconds.observe((performance.now() - started) / 1000);

    this.#forgetExpired(now);
    const placementId = newId('pl');
    const numbers = this.#o.numbers(tenant);
    const logged: Impression[] = [];
    const slots: PlacedSlot[] = [];
    const placed = decision.slots.flatMap((s) => {
      const listing = index.get(s.listingId);
      return listing ? [{ s, listing }] : [];
    });
    const shown = await this.#numbers(
      request,
      placed.map((p) => p.listing),
      numbers,
      now,
    );
    for (const [k, { s, listing }] of placed.entries()) {
      const number = shown[k] ?? { number: null, kind: 'none' as const, end: now };
      const impression: Impression = {
        id: newId('im'),
        tenant,
        placementId,
        listingId: listing.id,
        advertiserId: listing.advertiserId,
        publisherId: request.publisher.id,
        slot: s.slot,
        price: s.price,
        bid: s.bid,
        quality: s.quality,
        deviceId: request.deviceId,
        page: request.page,
        number: number.number,
        numberKind: number.kind,
        leaseStart: now,
        leaseEnd: number.end,
        createdAt: now,
      };
      logged.push(impression);
      slots.push({
        slot: s.slot,
        impressionId: impression.id,
        listing: {
          id: listing.id,
          title: listing.title,
          description: listing.description,
          category: listing.category,
          region: listing.region,
        },
        price: s.price,
        number: impression.number,
        numberKind: impression.numberKind,
        leaseStart: impression.leaseStart,
        leaseEnd: impression.leaseEnd,
      });
    }
    await impressions.logPlacement(
      {
        id: placementId,
        tenant,
        publisherId: request.publisher.id,
        category: request.category,
        region: request.region,
        slots: request.slots,
        deviceId: request.deviceId,
        page: request.page,
        decision: {
          reserve: decision.reserve,
          eligible: eligible.length,
          ranked: decision.ranked,
          excluded,
          slots: decision.slots.map((s) => {
            const q = index.quality(s.listingId);
            return {
              ...s,
              answerRate: q?.answerRate ?? null,
              qualificationRate: q?.qualificationRate ?? null,
            };
          }),
        },
        createdAt: now,
      },
      logged,
      index.today(now),
    );
    metrics?.placements.inc({ result: slots.length > 0 ? 'placed' : 'empty' });
    metrics?.impressions.inc(slots.length);
    return { placementId, slots };
  }

  /**
   * The number each slot's listing is shown with: a lease the device already
   * holds for it, else a fresh lease (the slots' fresh leases taken in one
   * go), else (pool exhausted) its static number or the tenant's fallback.
   */
  async #numbers(
    request: PlacementRequest,
    listings: readonly Listing[],
    numbers: TenantNumbers | undefined,
    now: number,
  ): Promise<{ number: string | null; kind: Impression['numberKind']; end: number }[]> {
    const leaseMs = (numbers?.leaseSeconds ?? 900) * 1000;
    const keys = listings.map(
      (l) => `${request.publisher.id}\u0000${request.deviceId}\u0000${l.id}`,
    );
    // Reused while at least a quarter of the lease is left; otherwise a fresh one.
    const held = keys.map((key) => {
      const h = this.#held.get(key);
      return h && h.end - now >= leaseMs / 4 ? h : undefined;
    });
    const needed = held.filter((h) => h === undefined).length;
    const fresh = numbers && needed > 0 ? await numbers.pool.leaseMany(now, needed) : [];
    return listings.map((listing, k) => {
      const h = held[k];
      if (h) return { number: h.number, kind: 'leased' as const, end: h.end };
      const key = keys[k] ?? '';
      const lease = fresh.shift();
      if (lease) {
        this.#held.delete(key);
        this.#held.set(key, { number: lease.number, end: lease.end });
        return { number: lease.number, kind: 'leased' as const, end: lease.end };
      }
      if (numbers && numbers.pool.size > 0)
        this.#o.metrics?.numbersExhausted.inc({ tenant: listing.tenant });
      const fallback = listing.staticNumber ?? numbers?.fallbackNumber ?? null;
      return {
        number: fallback,
        kind: fallback === null ? ('none' as const) : ('static' as const),
        end: now + leaseMs,
      };
    });
  }

  /** Held leases are kept in insertion order, which is end order: drop the expired head. */
  #forgetExpired(now: number): void {
    for (const [key, held] of this.#held) {
      if (held.end > now) break;
      this.#held.delete(key);
    }
  }
}
