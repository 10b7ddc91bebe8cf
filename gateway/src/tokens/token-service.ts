import {
  CallTokenError,
  ConfiguredTenantKeys,
  MemoryReplayStore,
  createCallTokenVerifier,
  publicJwkOf,
  type CallTokenVerifier,
  type JwkSet,
  type ReplayStore,
  type VerifiedCallToken,
  type VerifyContext,
} from '@parley/shared/tokens';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { Metrics } from '../observability/index.js';

/** Where the gateway saw the token: over a WebSocket (whose Origin, if any, is `origin`). */
export interface GatewayVerifyContext extends VerifyContext {
  readonly websocket?: boolean;
}

/**
 * The gateway's side of call tokens: verification with metrics and logs, and the
 * public encryption keys companies encrypt private claims to.
 */
export interface TokenService {
  /** Resolves with the verified token or rejects with CallTokenError. */
  verify(token: unknown, context?: GatewayVerifyContext): Promise<VerifiedCallToken>;
  /** The public halves of the gateway's encryption keys, for /.well-known/jwks.json. */
  readonly jwks: JwkSet;
}

export interface TokenServiceDeps {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly replayStore?: ReplayStore;
  readonly now?: () => number;
}

export async function createTokenService(deps: TokenServiceDeps): Promise<TokenService> {
  const { config, metrics, logger } = deps;
  const verifier: CallTokenVerifier = await createCallTokenVerifier({
    audience: config.gatewayId,
    tenantKeys: new ConfiguredTenantKeys(config.tenants),
    decryptionKeys: config.tokens.encryptionKeys,
    replayStore: deps.replayStore ?? new MemoryReplayStore(),
    clockToleranceSeconds: config.tokens.clockToleranceSeconds,
    maxTokenBytes: config.tokens.maxTokenBytes,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const jwks: JwkSet = {
    keys: config.tokens.encryptionKeys.map((k) => ({ ...publicJwkOf(k), use: 'enc' })),
  };
  const log = logger.child({ module: 'tokens' });

  return {
    jwks,
    async verify(token, gatewayContext) {
      const { websocket, ...context } = gatewayContext ?? {};
      const end = metrics.tokenVerifySeconds.startTimer();
      try {
        const verified = await verifier.verify(token, {
          ...context,
          // Before the jti is used up: a token refused here is not burned.
          check: (claims) => {
            const tenant = config.tenants[claims.iss];
            // The allowlist holds whatever the transport: a token minted for a page
            // outside it is refused over UDP, TCP and an Origin-less WebSocket too.
            if (tenant !== undefined && !originAllowed(tenant.origins, claims.origin)) {
              throw new CallTokenError(
                'origin_mismatch',
                `${claims.origin} is not a tenant origin`,
              );
            }
            if (tenant?.requireWebSocketOrigin && websocket && context.origin === undefined) {
              throw new CallTokenError('origin_mismatch', 'a WebSocket without an Origin header');
            }
            context.check?.(claims);
          },
        });
        metrics.tokensVerified.inc({ tenant: verified.claims.iss });
        log.debug(
          { tenant: verified.claims.iss, sub: verified.claims.sub, jti: verified.claims.jti },
          'token verified',
        );
        return verified;
      } catch (error) {
        const reason = error instanceof CallTokenError ? error.reason : 'malformed';
        metrics.tokensRefused.inc({ reason });
        log.info(
          { reason, detail: error instanceof CallTokenError ? error.detail : undefined },
          'token refused',
        );
        throw error;
      } finally {
        end();
      }
    },
  };
}

/** Whether `origin` is in the tenant's allowlist (an empty list allows any). */
function originAllowed(allowed: readonly string[], origin: string): boolean {
  if (allowed.length === 0) return true;
  const wanted = normaliseOrigin(origin);
  return allowed.some((entry) => normaliseOrigin(entry) === wanted);
}

function normaliseOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}
