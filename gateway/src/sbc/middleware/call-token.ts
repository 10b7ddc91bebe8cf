import { CallTokenError } from '@parley/shared/tokens';
import type { TokenService } from '../../tokens/index.js';
import type { InviteMiddleware } from '../invite-pipeline.js';

/**
 * RFC 8898: the call token arrives as `Authorization: Bearer <token>`. It must
 * verify, name this queue in its scope and, over WebSocket, the page origin of
 * the handshake; the queue must belong to the token's tenant.
 */
export function callToken(
  tokens: TokenService,
  queueTenant: (queue: string) => string | undefined,
  realm: string,
): InviteMiddleware {
  return async (ctx) => {
    const header = ctx.invite.headers.get('authorization') ?? '';
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
    if (!match?.[1]) {
      return { code: 'token_missing', headers: [['WWW-Authenticate', `Bearer realm="${realm}"`]] };
    }
    // The token is for us only: it must not travel further (nor reach logs).
    ctx.invite.headers.delete('authorization');
    try {
      const queue = ctx.queue;
      ctx.token = await tokens.verify(match[1], {
        ...(ctx.flow.origin !== undefined ? { origin: ctx.flow.origin } : {}),
        ...(queue !== undefined
          ? {
              requiredScope: `queue:${queue}`,
              // A queue of another tenant: refused before the token's jti is used up.
              check: (claims) => {
                if (queueTenant(queue) !== claims.iss) {
                  throw new CallTokenError(
                    'scope_denied',
                    `queue ${queue} is not of tenant ${claims.iss}`,
                  );
                }
              },
            }
          : {}),
      });
    } catch (error) {
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
