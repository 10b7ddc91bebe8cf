/**
 * For a company's token endpoint when the gateway mints TURN credentials:
 * asks the gateway (`POST /v1/ice-servers`, with the company's API key) for
 * the ICE servers to hand the widget with each token, and reuses an answer
 * while more than half of its credentials' lifetime is left (at most 12 h),
 * so visitors share one credential for up to half its lifetime. When the
 * gateway cannot be asked, a cached answer whose credentials still work is
 * handed out; without one, `fallback` (no TURN): a call that may need TURN is
 * better than no call. `onError` says what happened, once per failed request.
 */
import type { GatewayInfo, IceServer } from './router.js';

export interface GatewayInfoSourceOptions {
  /** The gateway's URL as browsers reach it (also where the ICE servers are asked). */
  readonly url: string;
  /** Where the company's server reaches the gateway, if not at `url`. */
  readonly apiUrl?: string;
  /** A /v1 API key of the gateway (one with the `ice-servers` scope is enough). */
  readonly apiKey: string;
  /** Handed out when the gateway does not answer. Default `{ url }`. */
  readonly fallback?: GatewayInfo;
  /** Give up on the gateway after this long. Default 2000 ms. */
  readonly timeoutMs?: number;
  readonly onError?: (error: Error) => void;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

interface IceServersBody {
  readonly iceServers: readonly IceServer[];
  readonly iceTransportPolicy: 'all' | 'relay';
  /** Seconds the minted credentials work from the gateway's answer; null without TURN. */
  readonly ttlSeconds: number | null;
}

/** An answer without minted credentials never goes stale: ask again in a minute anyway. */
const STATIC_REUSE_MS = 60_000;
/** Half of the longest TURN lifetime the gateway accepts (86400 s). */
const MAX_REUSE_MS = 12 * 3600_000;
/** Cached credentials are not handed out in their last seconds, even when the gateway is down. */
const EXPIRY_MARGIN_MS = 30_000;

/** Returns a function for `createScreeningRouter({ gateway })`. */
export function gatewayInfoSource(options: GatewayInfoSourceOptions): () => Promise<GatewayInfo> {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const endpoint = new URL('/v1/ice-servers', options.apiUrl ?? options.url).toString();
  const fallback = options.fallback ?? { url: options.url };
  let cached: { info: GatewayInfo; reuseUntil: number; usableUntil: number } | undefined;
  let pending: Promise<GatewayInfo> | undefined;

  const request = async (): Promise<GatewayInfo> => {
    const startedAt = now();
    let response: Response;
    let json: unknown;
    try {
      response = await doFetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.apiKey}` },
        signal: AbortSignal.timeout(options.timeoutMs ?? 2000),
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`gateway answered ${response.status}`);
      }
      json = await response.json();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`POST ${endpoint}: ${reason}`, { cause: error });
    }
    const body = parseBody(json, endpoint);
    const info: GatewayInfo = {
      url: options.url,
      iceServers: body.iceServers,
      iceTransportPolicy: body.iceTransportPolicy,
    };
    // The lifetime counts from when we asked, on our clock: the gateway's may differ.
    const lifetimeMs = body.ttlSeconds === null ? null : body.ttlSeconds * 1000;
    cached = {
      info,
      reuseUntil:
        startedAt +
        (lifetimeMs === null ? STATIC_REUSE_MS : Math.min(lifetimeMs / 2, MAX_REUSE_MS)),
      usableUntil: lifetimeMs === null ? Infinity : startedAt + lifetimeMs - EXPIRY_MARGIN_MS,
    };
    return info;
  };

  const refresh = async (): Promise<GatewayInfo> => {
    try {
      return await request();
    } catch (error) {
      options.onError?.(error instanceof Error ? error : new Error(String(error)));
      return cached && now() < cached.usableUntil ? cached.info : fallback;
    }
  };

  return async () => {
    if (cached && now() < cached.reuseUntil) return cached.info;
    pending ??= refresh().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

function parseBody(value: unknown, endpoint: string): IceServersBody {
  const body = value as
    (Partial<Omit<IceServersBody, 'ttlSeconds'>> & { ttlSeconds?: unknown }) | null;
  const servers = body?.iceServers;
  const policy = body?.iceTransportPolicy;
  const ttl = body?.ttlSeconds;
  const optionalString = (v: unknown) => v === undefined || typeof v === 'string';
  const serverOk = (s: IceServer) =>
    typeof s === 'object' &&
    s !== null &&
    (typeof s.urls === 'string' ||
      (Array.isArray(s.urls) && s.urls.every((u) => typeof u === 'string'))) &&
    optionalString(s.username) &&
    optionalString(s.credential);
  if (
    !Array.isArray(servers) ||
    !servers.every(serverOk) ||
    (policy !== 'all' && policy !== 'relay') ||
    (ttl !== null && !(typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0))
  ) {
    throw new Error(`POST ${endpoint}: the gateway answered with an unexpected body`);
  }
  return { iceServers: servers, iceTransportPolicy: policy, ttlSeconds: ttl };
}
