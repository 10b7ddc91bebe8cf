/**
 * What a call's match must pass before the call path routes it: a web call's
 * claimed impression must be one this gateway sealed (else the call is not
 * attributed), and a number destination must still be one the trunk's
 * outbound rules let the tenant call (else the call is refused, recorded).
 */
import type { Logger } from '../observability/index.js';
import type { ImpressionSeal } from './impression-seal.js';
import type { ImpressionStore } from './impression-store.js';
import type { CallMatch, CallMatcher } from './inbound-match.js';
import { destinationRefusal } from './listing-checks.js';
import type { MarketplaceMetrics } from './metrics.js';
import type { MarketplaceEnvironment } from './environment.js';

export interface MatchChecks {
  readonly environment: MarketplaceEnvironment;
  readonly seal: Pick<ImpressionSeal, 'open'>;
  readonly impressions: ImpressionStore;
  readonly matcher: CallMatcher;
  readonly metrics: MarketplaceMetrics | undefined;
  readonly log: Logger;
}

export interface WebQuery {
  readonly listingId: string;
  /** The reference the visitor's browser sent (`X-Parley-Impression`): a claim. */
  readonly impressionId?: string;
  readonly deviceId?: string;
  readonly at: number;
}

/**
 * A web call's impression is a claim of the visitor's browser: only a
 * reference this gateway sealed (`impression-seal.ts`) is looked at. One that
 * does not open (a bare id, a forged or swapped MAC, an unknown id), or that
 * is sealed but not this call's (another listing, another device, past its
 * lease), is not attributed, as Ringba and Invoca treat a click they cannot
 * verify: the call still goes through, as a direct call to the listing (its
 * bid, no publisher, no impression), and the call keeps the claim and why.
 */
export async function sealedWebMatch(c: MatchChecks, q: WebQuery): Promise<CallMatch | undefined> {
  if (q.impressionId === undefined) return await c.matcher.web(q);
  const opened = await c.seal.open(q.impressionId, (id) => c.impressions.impression(id));
  const claimed = q.impressionId.slice(0, 80);
  const { impressionId: _claimed, ...rest } = q;
  let match: CallMatch | undefined;
  // The impression the seal's check read is handed on: a sealed web call reads it once.
  if (opened.ok)
    match = await c.matcher.web({
      ...rest,
      impressionId: opened.impression.id,
      impression: opened.impression,
    });
  else {
    const direct = await c.matcher.web(rest);
    match = direct ? { ...direct, claim: `${opened.why}: ${claimed}` } : undefined;
  }
  if (match?.claim !== undefined) {
    const why = match.claim.slice(0, match.claim.indexOf(':'));
    c.metrics?.unattributed.inc({ reason: why });
    c.log.warn(
      { listing: q.listingId, claimed, why },
      'a web call claimed an impression it cannot prove: not attributed',
    );
  }
  return match;
}

/**
 * A routable match whose number destination the trunks' outbound rules
 * refuse now (checked when the listing was written, but the rules may have
 * changed since: a restart with a new config) is marked `blocked`.
 */
export function dialable(
  c: Pick<MatchChecks, 'environment' | 'log'>,
  match: CallMatch | undefined,
): CallMatch | undefined {
  if (!match?.routable) return match;
  const blocked = destinationRefusal(c.environment, match.tenant, match.destination);
  if (!blocked) return match;
  c.log.warn(
    { listing: match.listing.id, code: blocked.code, detail: blocked.detail },
    "a call to the listing is refused: the trunk's outbound rules refuse its destination",
  );
  return { ...match, blocked };
}
