/**
 * The visitor INVITE's way in: overload check → the SBC middlewares (header
 * scrub, Max-Forwards, destination queue, call token, tenant cap, SDP offer)
 * → the call. A refusal is a SIP final with a Reason carrying the code.
 */
import type { Logger } from '../observability/index.js';
import type { InviteHandler, InviteServerTransaction, SipRequest, SipStack } from '../sip/index.js';
import type { TokenService } from '../tokens/index.js';
import { runInvitePipeline, type InviteContext, type InviteMiddleware } from './invite-pipeline.js';
import { callToken } from './middleware/call-token.js';
import { destination } from './middleware/destination.js';
import { impressionHeader } from './middleware/impression.js';
import { maxForwards } from './middleware/max-forwards.js';
import { scrubHeaders } from './middleware/scrub-headers.js';
import { sdpOffer } from './middleware/sdp-offer.js';
import { tenantLimit } from './middleware/tenant-limit.js';
import type { OverloadGuard } from './overload.js';
import { refuse } from './refusal.js';

export interface VisitorPipelineDeps {
  readonly tokens: TokenService;
  readonly realm: string;
  /** Queue name → its tenant (only configured queues can be called). */
  readonly queues: Readonly<Record<string, { readonly tenant: string }>>;
  /** A tenant's concurrent-call cap (0: unknown tenant). */
  readonly maxCalls: (tenant: string) => number;
  /** A tenant's calls in progress. */
  readonly activeCalls: (tenant: string) => number;
  /**
   * A marketplace listing's tenant (undefined: no such listing): with it,
   * `sip:listing.<id>@…` is a listing's web reference (docs/marketplace.md).
   */
  readonly listingTenant?: (listing: string) => Promise<string | undefined>;
}

/** The SBC middlewares a visitor's INVITE passes, in order. */
export function visitorPipeline(deps: VisitorPipelineDeps): InviteMiddleware[] {
  return [
    // Before the scrub, which drops every X-Parley-* header a visitor sends.
    impressionHeader,
    scrubHeaders,
    maxForwards,
    // Unknown queues are refused only after the token (so names are not disclosed).
    destination(),
    callToken(deps.tokens, (queue) => deps.queues[queue]?.tenant, deps.realm, deps.listingTenant),
    tenantLimit(deps.activeCalls, deps.maxCalls),
    sdpOffer,
  ];
}

export interface InviteHandlerDeps {
  readonly stack: SipStack;
  readonly pipeline: readonly InviteMiddleware[];
  readonly overload: OverloadGuard;
  /**
   * True while the gateway drains (SIGTERM): new INVITEs are refused 503
   * `gateway_shutdown` before any work, so a proxy in front tries another
   * gateway and the token is not used up here.
   */
  readonly draining?: () => boolean;
  /**
   * INVITEs another module takes instead of the visitor pipeline (a carrier's
   * call goes to its trunk); true when it took this one.
   */
  readonly divert?: (invite: SipRequest, tx: InviteServerTransaction) => boolean;
  /** Starts the call of an admitted INVITE; `cancelled` tells whether a CANCEL came meanwhile. */
  readonly admit: (ctx: InviteContext, cancelled: () => boolean) => Promise<unknown>;
  /** A refused INVITE, by code (metrics). */
  readonly onRefused?: (code: string) => void;
  readonly logger: Logger;
}

export function inviteHandler(deps: InviteHandlerDeps): InviteHandler {
  const { stack, logger } = deps;
  return (invite, tx) => {
    // Overload: refuse at once, before any work, so retransmissions do not pile up.
    if (deps.overload.overloaded()) {
      deps.onRefused?.('overloaded');
      refuse(stack, tx, { code: 'overloaded', headers: [['Retry-After', '5']] });
      return;
    }
    if (deps.draining?.()) {
      deps.onRefused?.('gateway_shutdown');
      refuse(stack, tx, { code: 'gateway_shutdown', headers: [['Retry-After', '10']] });
      return;
    }
    if (deps.divert?.(invite, tx)) return;
    let cancelled = false;
    tx.once('cancel', () => (cancelled = true));
    const ctx: InviteContext = { invite, tx, flow: tx.flow };
    void (async () => {
      try {
        const refusal = await runInvitePipeline(deps.pipeline, ctx);
        if (refusal) {
          deps.onRefused?.(refusal.code);
          logger.info(
            {
              reason: refusal.code,
              detail: refusal.detail,
              source: tx.flow.remote.address,
              callId: invite.callId,
            },
            'INVITE refused',
          );
          if (tx.finalStatus === undefined) refuse(stack, tx, refusal);
          return;
        }
        await deps.admit(ctx, () => cancelled);
      } catch (error) {
        logger.error({ err: error, callId: invite.callId }, 'INVITE handling failed');
        if (tx.finalStatus === undefined) stack.respond(tx, 500);
      }
    })();
  };
}
