/**
 * Calls to the marketplace, live: a trunk call to a tracking number (issue 12
 * item 4: the called number and the time find the impression that leased it,
 * `matchInbound`) and a visitor's web call to a listing's reference
 * (`matchWeb`: the impression the visitor named, when it is the listing's and
 * current, else a direct call at the bid). Either way the call is dialled to
 * the listing's destination, counted when it starts, and the advertiser is
 * charged once when the connection has lasted the listing's minimum (a timer
 * at `qualifiesAt`; `callEnded` catches a late timer). The charge's
 * idempotency key is the call id, so a restart's `recover` never charges it
 * twice.
 */
import type { TrackedCalls, TrackedRoute, WebRoute } from '../calls/flow/tracked-calls.js';
import type { Call } from '../calls/index.js';
import type { FlowRef } from '../flows/index.js';
import type { Logger } from '../observability/index.js';
import type { CallMatch } from './inbound-match.js';
import type { MarketplaceCallHooks } from './marketplace.js';
import type { Destination } from './model.js';

export function trackedCalls(deps: {
  readonly hooks: MarketplaceCallHooks;
  readonly now: () => number;
  readonly logger: Logger;
}): TrackedCalls {
  const { hooks, now } = deps;
  const log = deps.logger.child({ module: 'tracked-calls' });

  /** Follows a routed call for billing: started, advertiser connected, qualified, ended. */
  const attach = (match: CallMatch) => (call: Call) => {
    const startedAt = now();
    // The records are written in order (started, connected, ended): each step waits for the last.
    // A step whose write failed is made good by the next: the answer and the end carry the match,
    // the start and the answer's time, and write what is missing (the charge is not lost).
    let last: Promise<void> = hooks
      .callStarted(call.id, match, startedAt)
      .catch((error: unknown) =>
        log.error({ callId: call.id, err: error }, 'marketplace call not recorded'),
      );
    const next = (failure: string, step: () => Promise<void>): void => {
      last = last
        .then(step)
        .catch((error: unknown) => log.error({ callId: call.id, err: error }, failure));
    };
    let timer: NodeJS.Timeout | undefined;
    let answeredAt: number | null = null;
    let over = false;
    const onState = (state: string) => {
      if (state !== 'answered' || answeredAt !== null) return;
      const at = now();
      answeredAt = at;
      next('marketplace answer not recorded', async () => {
        const connected = await hooks.advertiserConnected(call.id, at, { match, startedAt });
        if (connected && !over) arm(connected.qualifiesAt);
      });
    };
    // A timer may fire a millisecond before the wall clock reaches `qualifiesAt` (timers run on
    // the monotonic clock): `qualify` then answers not_yet, and the timer is armed again for
    // what is left, instead of leaving the charge to the call's end (or to a crash's recovery).
    const arm = (qualifiesAt: number): void => {
      timer = setTimeout(
        () => {
          hooks.qualify(call.id, now()).then(
            (result) => {
              log.info({ callId: call.id, result: result.status }, 'marketplace call qualified');
              if (result.status === 'not_yet' && !over) arm(result.qualifiesAt);
            },
            // The database failed: the call's end (`callEnded`) or the next start's recovery charges it.
            (error: unknown) =>
              log.error({ callId: call.id, err: error }, 'marketplace charge failed'),
          );
        },
        Math.max(1, qualifiesAt - now()),
      );
      timer.unref();
    };
    call.on('state', onState);
    call.once('ended', () => {
      over = true;
      call.off('state', onState);
      clearTimeout(timer);
      const at = now();
      next('marketplace charge at the end failed', async () => {
        await hooks.callEnded(call.id, at, { match, startedAt, connectedAt: answeredAt });
      });
    });
    log.info(
      {
        callId: call.id,
        kind: match.kind,
        listing: match.listing.id,
        impression: match.impression?.id,
        matchedBy: match.matchedBy,
      },
      'marketplace call routed',
    );
  };

  /**
   * A call whose destination the trunk's rules refuse now is still admitted,
   * so that its Parley record ends with the reason (`number_not_allowed`), but
   * its flow only hangs up with that code (SIP 403 and a Reason header): the
   * number is never dialled, the marketplace keeps the call with its refusal,
   * and nothing is charged.
   */
  const refused = (match: CallMatch) => (call: Call) => {
    hooks
      .callRefused(call.id, match, now())
      .catch((error: unknown) =>
        log.error({ callId: call.id, err: error }, 'refused marketplace call not recorded'),
      );
    log.warn(
      { callId: call.id, listing: match.listing.id, refusal: match.blocked },
      'marketplace call refused: destination not allowed',
    );
  };

  const routeOf = (match: CallMatch): TrackedRoute => {
    if (!match.routable)
      return { kind: 'refuse', code: 'listing_unavailable', detail: match.reason ?? 'unavailable' };
    if (match.blocked)
      return {
        kind: 'route',
        flow: {
          builtin: `listing.${match.listing.id}`,
          verbs: [{ verb: 'hangup', reason: match.blocked.code }],
        },
        attach: refused(match),
      };
    return {
      kind: 'route',
      flow: destinationFlow(match.listing.id, match.destination),
      attach: attach(match),
    };
  };

  return {
    async route(query): Promise<TrackedRoute | undefined> {
      const match = await hooks.matchInbound({
        calledNumber: query.called,
        at: query.at,
        ...(query.callerNumber ? { callerNumber: query.callerNumber } : {}),
      });
      return match ? routeOf(match) : undefined;
    },
    async web(query): Promise<WebRoute | undefined> {
      const match = await hooks.matchWeb({
        listingId: query.listing,
        at: query.at,
        ...(query.impression !== undefined ? { impressionId: query.impression } : {}),
        ...(query.deviceId !== undefined ? { deviceId: query.deviceId } : {}),
      });
      if (!match || match.tenant !== query.tenant) return undefined;
      const route = routeOf(match);
      if (route.kind === 'refuse') return route;
      const d = match.destination;
      return { ...route, queue: d.kind === 'queue' ? d.queue : undefined };
    },
  };
}

/** The listing's destination as a one-verb flow: `dial` it (the caller hears its early media). */
function destinationFlow(listing: string, d: Destination): FlowRef {
  const target =
    d.kind === 'queue'
      ? { type: 'queue' as const, queue: d.queue }
      : d.kind === 'agent'
        ? { type: 'agent' as const, agent: d.agent }
        : { type: 'phone' as const, number: d.number, ...(d.trunk ? { trunk: d.trunk } : {}) };
  // The dial verb's documented defaults (docs/flows.md): 30 s of ringing, 4 h of talk.
  return {
    builtin: `listing.${listing}`,
    verbs: [{ verb: 'dial', target, timeout: 30, timeLimit: 14_400 }],
  };
}
