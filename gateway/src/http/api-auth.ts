import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { ParleyError } from '@parley/shared/errors';
import { API_SCOPES, type ApiScope } from '../config/index.js';

export interface ApiKeyConfig {
  readonly id: string;
  readonly key: string;
  readonly tenant?: string | undefined;
  readonly privateClaims: boolean;
  /** Default: every scope. */
  readonly scopes?: readonly ApiScope[] | undefined;
}

/** Who is calling the /v1 API. */
export interface ApiPrincipal {
  readonly keyId: string;
  /** Only this tenant's data, when set. */
  readonly tenant: string | undefined;
  readonly privateClaims: boolean;
  readonly scopes: readonly ApiScope[];
}

/** The principal {@link requireApiKey} authenticated for this response. */
export function principalOf(res: Response): ApiPrincipal | undefined {
  return res.locals['principal'] as ApiPrincipal | undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Finds the key presented, comparing SHA-256 digests with timingSafeEqual so
 * neither length nor content leaks through timing.
 */
export function apiKeyFinder(
  keys: readonly ApiKeyConfig[],
): (presented: string) => ApiKeyConfig | undefined {
  const digests = keys.map((k) => ({ config: k, digest: digest(k.key) }));
  return (presented) => {
    const d = digest(presented);
    return digests.find((k) => timingSafeEqual(k.digest, d))?.config;
  };
}

/** Whether a key may act in `scope`. */
export function keyHasScope(key: Pick<ApiKeyConfig, 'scopes'>, scope: ApiScope): boolean {
  return (key.scopes ?? API_SCOPES).includes(scope);
}

/** `Authorization: Bearer <api key>` (see {@link apiKeyFinder}). */
export function requireApiKey(keys: readonly ApiKeyConfig[]): RequestHandler {
  const find = apiKeyFinder(keys);
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      res.setHeader('www-authenticate', 'Bearer realm="parley"');
      next(new ParleyError('unauthorized', 'an API key is required'));
      return;
    }
    const found = find(match[1]);
    if (!found) {
      res.setHeader('www-authenticate', 'Bearer realm="parley", error="invalid_token"');
      next(new ParleyError('unauthorized', 'unknown API key'));
      return;
    }
    const principal: ApiPrincipal = {
      keyId: found.id,
      tenant: found.tenant,
      privateClaims: found.privateClaims,
      scopes: found.scopes ?? API_SCOPES,
    };
    res.locals['principal'] = principal;
    next();
  };
}

/** Throws 403 `forbidden` unless the key {@link requireApiKey} authenticated has `scope`. */
export function assertScope(res: Response, scope: ApiScope): void {
  const principal = principalOf(res);
  if (principal && keyHasScope(principal, scope)) return;
  throw new ParleyError('forbidden', `this API key does not have the "${scope}" scope`, {
    expose: true,
  });
}

/** Refuses (404, not 403: existence is not disclosed) data of another tenant. */
export function canSee(principal: ApiPrincipal | undefined, tenant: string): boolean {
  return principal !== undefined && (principal.tenant === undefined || principal.tenant === tenant);
}
