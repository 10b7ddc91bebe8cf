import type { VerifiedCallToken } from '@parley/shared/tokens';
import type { Flow, InviteServerTransaction, SipRequest } from '../sip/index.js';
import type { Refusal } from './refusal.js';

/** What the SBC learns about a visitor's INVITE as it passes the middlewares. */
export interface InviteContext {
  readonly invite: SipRequest;
  readonly tx: InviteServerTransaction;
  readonly flow: Flow;
  /** The queue the Request-URI names (destination middleware). */
  queue?: string;
  /** The verified call token (call-token middleware). */
  token?: VerifiedCallToken;
  /**
   * A marketplace listing's web reference: the Request-URI `sip:listing.<id>@…`
   * (destination middleware); then `queue` is `listing.<id>`.
   */
  listing?: string;
  /**
   * The impression the visitor says the listing was shown with
   * (`X-Parley-Impression`, read before the header scrub). A claim, not a
   * fact: the marketplace accepts it only for its listing, inside its lease.
   */
  impression?: string;
}

/** One SBC check. Returns a refusal to stop the INVITE, nothing to let it through. */
export type InviteMiddleware = (
  ctx: InviteContext,
) => Refusal | undefined | Promise<Refusal | undefined>;

/** Runs the middlewares in order; the first refusal wins. */
export async function runInvitePipeline(
  middlewares: readonly InviteMiddleware[],
  ctx: InviteContext,
): Promise<Refusal | undefined> {
  for (const middleware of middlewares) {
    const refusal = await middleware(ctx);
    if (refusal) return refusal;
  }
  return undefined;
}
