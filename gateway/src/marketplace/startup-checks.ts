/**
 * At start-up, live listings are checked again against this start's config:
 * they were checked when written, but the trunks and pools may have changed
 * since. Said loudly, not refused: the listings are data, and the calls to
 * such a number go where the config sends them (a pool's lease first).
 */
import type { Logger } from '../observability/index.js';
import type { MarketplaceEnvironment } from './environment.js';
import { destinationRefusal } from './listing-checks.js';
import type { Listing } from './model.js';

export function recheckListings(
  listings: readonly Listing[],
  environment: MarketplaceEnvironment,
  registry: { checkStaticNumber(tenant: string, number: string, listingId: string): void },
  log: Logger,
): void {
  for (const l of listings) {
    if (l.status === 'archived') continue;
    // Not placed, and its calls refused (number_not_allowed), until the destination or the rules change.
    const blocked = destinationRefusal(environment, l.tenant, l.destination);
    if (blocked)
      log.warn(
        { listing: l.id, code: blocked.code, detail: blocked.detail },
        "a listing's destination is refused by the trunks' outbound rules of this config: not placed in auctions",
      );
    if (l.staticNumber === null) continue;
    try {
      registry.checkStaticNumber(l.tenant, l.staticNumber, l.id);
    } catch (error) {
      log.warn(
        { listing: l.id, detail: (error as Error).message },
        "a listing's static number no longer fits the trunks and pools of the config",
      );
    }
  }
}
