/**
 * The lookups the call path makes: which impression, listing, advertiser,
 * publisher and destination a call belongs to, from the number it called
 * (a leased tracking number, a listing's static number) and what is known of
 * the caller, or from a web call's listing reference.
 */
import type { DirectoryStore } from './directory-store.js';
import type { ImpressionStore } from './impression-store.js';
import type { DestinationRefusal } from './listing-checks.js';
import type { Ineligibility, ListingIndex } from './listing-index.js';
import type { CallKind, Destination, Impression, Listing } from './model.js';

export interface CallMatch {
  /** `tracked`: a leased number (or a static one with the device known); `web`: `<parley-call listing>`; `direct`: no impression. */
  readonly kind: CallKind;
  readonly tenant: string;
  readonly listing: Listing;
  readonly advertiserId: string;
  readonly publisherId: string | null;
  readonly impression: Impression | null;
  /** What a qualified call costs: the impression's auction price, or the listing's bid. */
  readonly price: number;
  readonly destination: Destination;
  /** False when the listing may not take calls now (paused, out of budget or funds, closed). */
  readonly routable: boolean;
  readonly reason?: Ineligibility | undefined;
  /**
   * Routable, but the destination cannot be dialled now: the trunk's outbound
   * rules refuse its number (they changed since the listing was written). The
   * call is refused with this code, recorded, never charged.
   */
  readonly blocked?: DestinationRefusal | undefined;
  /** A web call's claimed impression that was not taken, and why (it went through unattributed). */
  readonly claim?: string | undefined;
  /** How the impression was found. */
  readonly matchedBy:
    'number' | 'number+device' | 'static-number+device' | 'listing' | 'impression';
}

export interface InboundQuery {
  /** The number dialled (E.164), e.g. the To / Request-URI of the trunk's INVITE. */
  readonly calledNumber: string;
  readonly at: number;
  /** The caller's number (From / P-Asserted-Identity), when the carrier gives it. */
  readonly callerNumber?: string | undefined;
  /** The visitor's device id, when the call carries one. */
  readonly deviceId?: string | undefined;
}

export interface MatcherOptions {
  readonly directory: DirectoryStore;
  readonly impressions: ImpressionStore;
  readonly index: ListingIndex;
  /** The tenant whose tracking pool holds this number, if any. */
  readonly poolTenant: (number: string) => string | undefined;
  /** Seconds a call after a lease ended still counts (per tenant). */
  readonly graceSeconds: (tenant: string) => number;
  /** The tenant's fallback number (shown when the pool was exhausted), per tenant. */
  readonly fallbackTenant: (number: string) => string | undefined;
  /** Listing with this static number, if any. */
  readonly staticListing: (number: string) => Listing | undefined;
  /**
   * A listing neither the index nor the directory knows yet, read from the
   * shared store (another gateway made it since the last refresh) and added
   * to both; absent with SQLite.
   */
  readonly fetchListing?: ((id: string) => Promise<Listing | undefined>) | undefined;
}

export class CallMatcher {
  readonly #o: MatcherOptions;

  constructor(options: MatcherOptions) {
    this.#o = options;
  }

  /**
   * A call from the telephone network: (called number, time, caller number or
   * device id when known) → the impression and everything it names, or
   * undefined when the number is not the marketplace's or no lease explains it.
   */
  async inbound(q: InboundQuery): Promise<CallMatch | undefined> {
    const o = this.#o;
    const devices = [q.deviceId, q.callerNumber].filter((d): d is string => !!d);
    const poolTenant = o.poolTenant(q.calledNumber);
    if (poolTenant !== undefined) {
      const holder = await o.impressions.holderAt(q.calledNumber, q.at);
      if (!holder || q.at > holder.leaseEnd + o.graceSeconds(poolTenant) * 1000) return undefined;
      const byDevice = devices.includes(holder.deviceId);
      return await this.#match('tracked', holder, q.at, byDevice ? 'number+device' : 'number');
    }
    const listing = o.staticListing(q.calledNumber);
    // The devices' impressions in one query; the first device (its id, then the caller's number) that explains the call wins.
    if (listing) {
      const latest =
        devices.length > 0
          ? await o.impressions.latestOfListing(listing.id, devices, q.at)
          : new Map<string, Impression>();
      for (const device of devices) {
        const i = latest.get(device);
        if (i && q.at <= i.leaseEnd + o.graceSeconds(listing.tenant) * 1000)
          return await this.#match('tracked', i, q.at, 'static-number+device');
      }
      return this.#direct(listing, q.at, 'direct');
    }
    const fallbackTenant = o.fallbackTenant(q.calledNumber);
    if (fallbackTenant !== undefined && devices.length > 0) {
      const grace = o.graceSeconds(fallbackTenant) * 1000;
      const latest = await o.impressions.latestByDevices(
        fallbackTenant,
        devices,
        q.at - grace - 86_400_000,
        q.at,
      );
      for (const device of devices) {
        const i = latest.get(device);
        if (i && i.number === q.calledNumber && q.at <= i.leaseEnd + grace)
          return await this.#match('tracked', i, q.at, 'static-number+device');
      }
    }
    return undefined;
  }

  /**
   * A web call to a listing's reference (`<parley-call listing impression>`):
   * the impression when it is the listing's and still current, else a direct
   * call to the listing (charged its bid). Undefined for no such listing.
   */
  async web(q: {
    listingId: string;
    impressionId?: string | undefined;
    /** The impression itself when the caller has read it already (the seal's check): not read again. */
    impression?: Impression | undefined;
    deviceId?: string | undefined;
    at: number;
  }): Promise<CallMatch | undefined> {
    const listing = await this.#listing(q.listingId);
    if (!listing || listing.status === 'archived') return undefined;
    if (q.impressionId) {
      const i =
        q.impression?.id === q.impressionId
          ? q.impression
          : await this.#o.impressions.impression(q.impressionId);
      const why =
        i === undefined
          ? 'unknown'
          : i.listingId !== listing.id
            ? 'other_listing'
            : q.deviceId !== undefined && q.deviceId !== i.deviceId
              ? 'other_device'
              : q.at < i.leaseStart ||
                  q.at > i.leaseEnd + this.#o.graceSeconds(listing.tenant) * 1000
                ? 'outside_lease'
                : undefined;
      if (i && why === undefined) return await this.#match('web', i, q.at, 'impression');
      return { ...this.#direct(listing, q.at, 'direct'), claim: `${why}: ${q.impressionId}` };
    }
    return this.#direct(listing, q.at, 'direct');
  }

  /**
   * The listing from the index, else the directory, else (a listing another
   * gateway made since this one's last refresh) the shared store.
   */
  async #listing(id: string): Promise<Listing | undefined> {
    return (
      this.#o.index.get(id) ?? this.#o.directory.listing(id) ?? (await this.#o.fetchListing?.(id))
    );
  }

  async #match(
    kind: CallKind,
    impression: Impression,
    at: number,
    matchedBy: CallMatch['matchedBy'],
  ): Promise<CallMatch | undefined> {
    const listing = await this.#listing(impression.listingId);
    if (!listing) return undefined;
    const reason = this.#o.index.ineligibility(listing.id, at);
    return {
      kind,
      tenant: listing.tenant,
      listing,
      advertiserId: listing.advertiserId,
      publisherId: impression.publisherId,
      impression,
      price: impression.price,
      destination: listing.destination,
      routable: reason === undefined,
      reason,
      matchedBy,
    };
  }

  #direct(listing: Listing, at: number, kind: CallKind): CallMatch {
    const reason = this.#o.index.ineligibility(listing.id, at);
    return {
      kind,
      tenant: listing.tenant,
      listing,
      advertiserId: listing.advertiserId,
      publisherId: null,
      impression: null,
      price: listing.bid,
      destination: listing.destination,
      routable: reason === undefined,
      reason,
      matchedBy: 'listing',
    };
  }
}
