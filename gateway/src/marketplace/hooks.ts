/**
 * What the call path calls on the marketplace ({@link MarketplaceCallHooks}),
 * built over the matcher, the checks of `match-checks.ts` and the billing.
 */
import type { Billing, CallFacts, QualifyResult } from './billing.js';
import type { CallMatch, InboundQuery } from './inbound-match.js';
import { dialable, sealedWebMatch, type MatchChecks } from './match-checks.js';
import type { MarketplaceCall } from './call-store.js';
import type { CallKind } from './model.js';

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

/** A marketplace call's row as its attribution. */
export const attributionOf = (c: MarketplaceCall): CallAttribution => ({
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
});

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
 *    was late, never one that ended short). The answer and the end carry the
 *    match and the start (`CallFacts`): a start whose write failed is written
 *    then, and the call still charged once.
 */
export interface MarketplaceCallHooks {
  matchInbound(q: InboundQuery): Promise<CallMatch | undefined>;
  matchWeb(q: {
    listingId: string;
    impressionId?: string;
    deviceId?: string;
    at: number;
  }): Promise<CallMatch | undefined>;
  callStarted(callId: string, match: CallMatch, at: number): Promise<void>;
  /** A matched call refused before its destination was dialled (`match.blocked`): recorded, not charged. */
  callRefused(callId: string, match: CallMatch, at: number): Promise<void>;
  /**
   * `facts` (the match and the start): records the call now if its start's
   * write failed, so that it is still charged once.
   */
  advertiserConnected(
    callId: string,
    at: number,
    facts?: CallFacts,
  ): Promise<{ qualifiesAt: number } | undefined>;
  qualify(callId: string, now: number): Promise<QualifyResult>;
  /** `facts` (the match, the start, the answer): records what the earlier writes missed, then charges. */
  callEnded(callId: string, at: number, facts?: CallFacts): Promise<QualifyResult>;
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

export function marketplaceHooks(
  checks: MatchChecks & { readonly billing: Billing },
): MarketplaceCallHooks {
  const { billing, matcher } = checks;
  return {
    matchInbound: async (q) => dialable(checks, await matcher.inbound(q)),
    matchWeb: async (q) => dialable(checks, await sealedWebMatch(checks, q)),
    callStarted: async (callId, match, at) => {
      await billing.started(callId, match, at);
    },
    callRefused: (callId, match, at) =>
      billing.refused(
        callId,
        match,
        at,
        match.blocked ? `${match.blocked.code}: ${match.blocked.detail}` : 'refused',
      ),
    advertiserConnected: (callId, at, facts) => billing.connected(callId, at, facts),
    qualify: (callId, now) => billing.qualify(callId, now),
    callEnded: (callId, at, facts) => billing.ended(callId, at, facts),
    qualifyCall: async ({ callId, match, connectedAt, now }) => {
      await billing.started(callId, match, connectedAt);
      await billing.connected(callId, connectedAt);
      return await billing.qualify(callId, now);
    },
  };
}
