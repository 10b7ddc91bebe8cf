import { isSipUri } from '../../sip/index.js';
import type { InviteMiddleware } from '../invite-pipeline.js';

/** The Request-URI user of a marketplace listing's web reference. */
export const LISTING_PREFIX = 'listing.';

/**
 * The Request-URI user names the queue (`sip:sales@gateway`). Whether the
 * queue exists is not answered here: the call token is checked first
 * (`callToken` refuses an unknown queue, or another tenant's, as
 * `unknown_queue`), so a caller without a token cannot list queue names.
 * Only a Request-URI naming no queue at all is refused at once. A user
 * `listing.<id>` names a marketplace listing instead (its web reference).
 */
export function destination(): InviteMiddleware {
  return (ctx) => {
    const uri = ctx.invite.uri;
    const user = isSipUri(uri) ? uri.user : undefined;
    if (!user) return { code: 'unknown_queue', detail: ctx.invite.requestUri };
    ctx.queue = user;
    // A listing's web reference (docs/marketplace.md): `listing.<id>`.
    if (user.startsWith(LISTING_PREFIX) && user.length > LISTING_PREFIX.length)
      ctx.listing = user.slice(LISTING_PREFIX.length);
    return undefined;
  };
}
