import { CallTokenError } from '@parley/shared/tokens';
import { clientOf } from '../../sip/index.js';
import type { TokenService } from '../../tokens/index.js';
import type { InviteMiddleware } from '../invite-pipeline.js';

/**
 * RFC 8898: the call token arrives as `Authorization: Bearer <token>`. It must
 * verify, name this queue in its scope and, over WebSocket, the page origin of
 * the handshake (behind a trusted edge proxy, the origin and transport it
 * reports in X-Parley-Origin/-Source: `sip/transport/edge.ts`); the queue must belong to the token's tenant. A queue that does
 * not exist, or is another tenant's, is refused only now, after the token, and
 * both alike (`unknown_queue`): a caller without a token learns no queue name,
 * and a tenant none of another's. A listing's web reference (`listing.<id>`,
 * with `listingTenant` given) needs the scope `listing:<id>` and a listing of
 * the token's tenant, refused the same way.
 */
export function callToken(
  tokens: TokenService,
  queueTenant: (queue: string) => string | undefined,
  realm: string,
  listingTenant?: (listing: string) => Promise<string | undefined>,
): InviteMiddleware {
  return async (ctx) => {
    const header = ctx.invite.headers.get('authorization') ?? '';
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
    if (!match?.[1]) {
      return { code: 'token_missing', headers: [['WWW-Authenticate', `Bearer realm="${realm}"`]] };
    }
    // The token is for us only: it must not travel further (nor reach logs).
    ctx.invite.headers.delete('authorization');
    let notOurs = false;
    const client = clientOf(ctx.invite, ctx.flow);
    try {
      const queue = ctx.queue;
      // A configured queue keeps its name even when it looks like a listing's reference.
      if (queue !== undefined && queueTenant(queue) !== undefined) delete ctx.listing;
      const listing = listingTenant ? ctx.listing : undefined;
      // Read before the token (it may read the shared directory: a listing another gateway just made).
      const listingOwner =
        listing !== undefined && listingTenant ? await listingTenant(listing) : undefined;
      const tenantOf = (): string | undefined =>
        listing !== undefined ? listingOwner : queue !== undefined ? queueTenant(queue) : undefined;
      ctx.token = await tokens.verify(match[1], {
        ...(client.origin !== undefined ? { origin: client.origin } : {}),
        // Spent on this INVITE (Call-ID, From tag, CSeq: what a proxy's failover keeps): the
        // SIP edge failing it over to another gateway is no replay.
        use: `${ctx.invite.callId} ${ctx.invite.from.tag ?? ''} ${ctx.invite.cseq.seq}`,
        websocket: client.protocol === 'WS' || client.protocol === 'WSS',
        ...(queue !== undefined
          ? {
              requiredScope: listing !== undefined ? `listing:${listing}` : `queue:${queue}`,
              // A queue (or listing) of another tenant: refused before the token's jti is used up.
              check: (claims) => {
                if (tenantOf() !== claims.iss) {
                  notOurs = true;
                  throw new CallTokenError(
                    'scope_denied',
                    `${queue} is not of tenant ${claims.iss}`,
                  );
                }
              },
            }
          : {}),
      });
    } catch (error) {
      if (notOurs) return { code: 'unknown_queue', detail: ctx.queue };
      if (error instanceof CallTokenError) {
        return {
          code: error.reason,
          detail: error.detail,
          headers: [['WWW-Authenticate', `Bearer realm="${realm}", error="invalid_token"`]],
        };
      }
      throw error;
    }
    return undefined;
  };
}
