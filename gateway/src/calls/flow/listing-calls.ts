/**
 * A visitor's web call to a marketplace listing (S8, `<parley-call listing>`):
 * the SBC let through `sip:listing.<id>@…` with a token scoped `listing:<id>`;
 * here the marketplace (through the {@link TrackedCalls} port) checks the
 * impression the visitor named and whether the listing takes calls now, and
 * the call is admitted like any visitor's (media, record, tenant cap), then
 * runs the listing's one-verb flow: `dial` its destination (queue, agent or
 * number). Billing follows the call exactly as for a tracking number: the
 * same `attach`, one charge under the call id.
 */
import type { Logger } from '../../observability/index.js';
import type { InviteContext } from '../../sbc/invite-pipeline.js';
import { refuse } from '../../sbc/refusal.js';
import type { SipStack } from '../../sip/index.js';
import type { CallManager } from '../call-manager.js';
import type { Call } from '../call.js';
import type { FlowRef } from '../../flows/index.js';
import type { TrackedCalls } from './tracked-calls.js';

export interface ListingCallsDeps {
  readonly stack: SipStack;
  readonly calls: CallManager;
  readonly tracked: TrackedCalls;
  /** Runs a flow on the call until it ends (`Telephony.runOn`). */
  readonly run: (call: Call, flow: FlowRef) => Promise<unknown>;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class ListingCalls {
  readonly #deps: ListingCallsDeps;
  readonly #log: Logger;

  constructor(deps: ListingCallsDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ module: 'listing-calls' });
  }

  /** Whether the INVITE is a web call to a listing (the SBC verified its token for it). */
  handles(ctx: InviteContext): boolean {
    return ctx.listing !== undefined && ctx.token !== undefined;
  }

  async admit(ctx: InviteContext, cancelled: () => boolean): Promise<Call | undefined> {
    const { token, listing } = ctx;
    if (!token || listing === undefined) throw new Error('admit() needs a verified listing call');
    const deviceId = token.privateClaims['deviceId'];
    const route = await this.#deps.tracked.web({
      tenant: token.claims.iss,
      listing,
      impression: ctx.impression,
      deviceId: typeof deviceId === 'string' ? deviceId : undefined,
      at: (this.#deps.now ?? Date.now)(),
    });
    if (!route) {
      refuse(this.#deps.stack, ctx.tx, { code: 'unknown_queue', detail: ctx.queue });
      return undefined;
    }
    if (route.kind === 'refuse') {
      refuse(this.#deps.stack, ctx.tx, { code: route.code, detail: route.detail });
      return undefined;
    }
    // Nothing rings by itself: the listing's flow dials its destination.
    const call = await this.#deps.calls.admit(ctx, cancelled, {
      ringAgents: false,
      queue: route.queue ?? null,
    });
    if (!call || call.ending) return call;
    route.attach(call);
    this.#deps.run(call, route.flow).catch((error: unknown) => {
      this.#log.error({ err: error, callId: call.id }, "the listing's flow failed");
      if (!call.ending) call.end({ outcome: 'failed', endedBy: 'gateway', reason: 'internal' });
    });
    return call;
  }
}
