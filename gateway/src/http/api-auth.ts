import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { ParleyError } from '@parley/shared/errors';

export interface ApiKeyConfig {
  readonly id: string;
  readonly key: string;
  readonly tenant?: string | undefined;
  readonly privateClaims: boolean;
}

/** Who is calling the /v1 API. */
export interface ApiPrincipal {
  readonly keyId: string;
  /** Only this tenant's data, when set. */
  readonly tenant: string | undefined;
  readonly privateClaims: boolean;
}

/** The principal {@link requireApiKey} authenticated for this response. */
export function principalOf(res: Response): ApiPrincipal | undefined {
  return res.locals['principal'] as ApiPrincipal | undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `Authorization: Bearer <api key>`. Keys are compared as SHA-256 digests with
 * timingSafeEqual, so neither length nor content leaks through timing.
 */
export function requireApiKey(keys: readonly ApiKeyConfig[]): RequestHandler {
  const digests = keys.map((k) => ({ config: k, digest: digest(k.key) }));
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      res.setHeader('www-authenticate', 'Bearer realm="parley"');
      next(new ParleyError('unauthorized', 'an API key is required'));
      return;
    }
    const presented = digest(match[1]);
    const found = digests.find((d) => timingSafeEqual(d.digest, presented));
    if (!found) {
      res.setHeader('www-authenticate', 'Bearer realm="parley", error="invalid_token"');
      next(new ParleyError('unauthorized', 'unknown API key'));
      return;
    }
    res.locals['principal'] = {
      keyId: found.config.id,
      tenant: found.config.tenant,
      privateClaims: found.config.privateClaims,
    };
    next();
  };
}

/** Refuses (404, not 403: existence is not disclosed) data of another tenant. */
export function canSee(principal: ApiPrincipal | undefined, tenant: string): boolean {
  return principal !== undefined && (principal.tenant === undefined || principal.tenant === tenant);
}
