/**
 * What a callback's destination is: a queue that offers callbacks
 * (`callbacks.queues.<name>`), or a marketplace listing (`listing.<id>`, with
 * `callbacks.listings.enabled`). Resolved when the request comes (who pays
 * what, whose number the customer sees, where the advertiser is reached) and
 * asked again for business hours and funds when it runs.
 */
import { ParleyError } from '@parley/shared/errors';
import type { CompiledBusinessHours } from '@parley/shared/screening';
import type { Config } from '../config/index.js';
import { queueDefinitions } from '../queues/index.js';
import type { AdvertiserTarget } from './model.js';

/** What the gateway needs of the marketplace for a listing's callback. */
export interface ListingSource {
  /**
   * The listing as a call to it now would find it (its impression when given
   * and current); undefined when there is no such listing.
   */
  listing(
    listingId: string,
    impressionId: string | undefined,
    at: number,
  ): Promise<
    | {
        readonly tenant: string;
        readonly title: string;
        readonly advertiserId: string;
        readonly advertiserName: string;
        readonly target: AdvertiserTarget;
        readonly bidCents: number;
        readonly staticNumber: string | null;
        /** Why it cannot take a call now (paused, out of budget or funds), or undefined. */
        readonly unavailable: string | undefined;
        /** Whether its schedule has it open at `instant`. */
        readonly openAt: (instant: number) => boolean;
        /**
         * The impression the page's reference proves (sealed, the listing's,
         * current), or null: a bare or forged id is only a claim, not kept.
         */
        readonly impressionId: string | null;
      }
    | undefined
  >;
  /** The tenant's fallback number (`marketplace.tenants.<t>.fallbackNumber`). */
  fallbackNumber(tenant: string): string | undefined;
  readonly currency: string;
}

export interface ResolvedDestination {
  readonly tenant: string;
  readonly destination: string;
  readonly listingId: string | null;
  readonly listingTitle: string | null;
  readonly advertiserId: string | null;
  readonly advertiserName: string;
  readonly target: AdvertiserTarget;
  readonly callerNumber: string;
  readonly feeCents: number;
  readonly currency: string;
  /** The queue whose free agent "agent-free" waits for (none for a phone number). */
  readonly queue: string | null;
  /** Whether the destination takes calls at `instant` (business hours, a listing's schedule). */
  readonly openAt: (instant: number) => boolean;
  /** A listing's impression the callback is attributed to (verified by its seal), or null. */
  readonly impressionId: string | null;
}

const LISTING = /^listing\.(.+)$/;

export class CallbackDestinations {
  readonly #config: Config;
  readonly #listings: ListingSource | undefined;
  readonly #hours = new Map<string, CompiledBusinessHours | undefined>();

  constructor(config: Config, listings: ListingSource | undefined) {
    this.#config = config;
    this.#listings = listings;
    for (const [name, queue] of Object.entries(queueDefinitions(config)))
      this.#hours.set(name, queue.businessHours);
  }

  /**
   * Resolves `destination` for a callback of `tenant` (the token's issuer).
   * Throws `callback_not_offered`, `listing_unavailable` or `scope_denied`.
   */
  async resolve(
    destination: string,
    tenant: string,
    impressionId: string | undefined,
    at: number,
  ): Promise<ResolvedDestination> {
    const listingId = LISTING.exec(destination)?.[1];
    if (listingId !== undefined)
      return await this.#listing(destination, listingId, tenant, impressionId, at);
    const offered = this.#config.callbacks.queues[destination];
    const queue = this.#config.queues[destination];
    if (!offered || !queue)
      throw new ParleyError('callback_not_offered', `no callbacks for ${destination}`, {
        expose: true,
      });
    if (queue.tenant !== tenant)
      throw new ParleyError('scope_denied', `queue ${destination} is not the tenant's`, {
        expose: true,
      });
    const hours = this.#hours.get(destination);
    return {
      tenant,
      destination,
      listingId: null,
      listingTitle: null,
      advertiserId: offered.advertiser ?? null,
      advertiserName: offered.name ?? this.#config.tenants[tenant]?.name ?? tenant,
      target: { kind: 'queue', queue: destination },
      callerNumber: offered.callerNumber,
      feeCents: offered.advertiser === undefined ? 0 : offered.feeCents,
      currency: this.#listings?.currency ?? this.#config.marketplace.currency,
      queue: destination,
      openAt: (instant) => hours === undefined || hours.isOpen(instant),
      impressionId: null,
    };
  }

  async #listing(
    destination: string,
    listingId: string,
    tenant: string,
    impressionId: string | undefined,
    at: number,
  ): Promise<ResolvedDestination> {
    const settings = this.#config.callbacks.listings;
    if (!settings.enabled || !this.#listings)
      throw new ParleyError('callback_not_offered', 'listings offer no callbacks', {
        expose: true,
      });
    const found = await this.#listings.listing(listingId, impressionId, at);
    if (!found || found.tenant !== tenant)
      throw new ParleyError('callback_not_offered', `no listing ${listingId}`, { expose: true });
    if (found.unavailable !== undefined && found.unavailable !== 'outside_schedule')
      throw new ParleyError('listing_unavailable', found.unavailable, { expose: true });
    const callerNumber =
      found.staticNumber ?? settings.callerNumber ?? this.#listings.fallbackNumber(tenant);
    if (callerNumber === undefined)
      throw new ParleyError(
        'callback_not_offered',
        'the listing has no number to call from (static number, callbacks.listings.callerNumber)',
        { expose: true },
      );
    const target = found.target;
    return {
      tenant,
      destination,
      listingId,
      listingTitle: found.title,
      advertiserId: found.advertiserId,
      advertiserName: found.advertiserName,
      target,
      callerNumber,
      feeCents: settings.feeCents === 'bid' ? found.bidCents : settings.feeCents,
      currency: this.#listings.currency,
      queue: target.kind === 'queue' ? target.queue : null,
      openAt: found.openAt,
      impressionId: found.impressionId,
    };
  }
}
