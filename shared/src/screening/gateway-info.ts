/**
 * For a company's token endpoint when the gateway mints TURN credentials:
 * asks the gateway (`POST /v1/ice-servers`, with the company's API key) for
 * the ICE servers to hand the widget with each token, and reuses an answer
 * while more than half of its credentials' lifetime is left. When the gateway
 * cannot be asked, the token still goes out with `fallback` (no TURN): a call
 * that may need TURN is better than no call, and `onError` says what happened.
 */
import type { GatewayInfo, IceServer } from './router.js';

export interface GatewayInfoSourceOptions {
  /** The gateway's URL as browsers reach it (also where the ICE servers are asked). */
  readonly url: string;
  /** Where the company's server reaches the gateway, if not at `url`. */
  readonly apiUrl?: string;
  /** A /v1 API key of the gateway. */
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
  readonly expiresAt: string | null;
}

/** Returns a function for `createScreeningRouter({ gateway })`. */
export function gatewayInfoSource(options: GatewayInfoSourceOptions): () => Promise<GatewayInfo> {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const endpoint = new URL('/v1/ice-servers', options.apiUrl ?? options.url).toString();
  const fallback = options.fallback ?? { url: options.url };
  let cached: { info: GatewayInfo; reuseUntil: number } | undefined;
  let pending: Promise<GatewayInfo> | undefined;

  const ask = async (): Promise<GatewayInfo> => {
    const startedAt = now();
    const response = await doFetch(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.apiKey}` },
      signal: AbortSignal.timeout(options.timeoutMs ?? 2000),
    });
    if (!response.ok) {
      throw new Error(`gateway answered ${response.status} to POST ${endpoint}`);
    }
    const body = parseBody(await response.json());
    const info: GatewayInfo = {
      url: options.url,
      iceServers: body.iceServers,
      iceTransportPolicy: body.iceTransportPolicy,
    };
    const expiresAt = body.expiresAt === null ? Number.NaN : Date.parse(body.expiresAt);
    // Without minted credentials the answer never goes stale: ask again in a minute anyway.
    const reuseUntil = Number.isFinite(expiresAt)
      ? startedAt + (expiresAt - startedAt) / 2
      : startedAt + 60_000;
    cached = { info, reuseUntil };
    return info;
  };

  return async () => {
    if (cached && now() < cached.reuseUntil) return cached.info;
    pending ??= ask().finally(() => {
      pending = undefined;
    });
    try {
      return await pending;
    } catch (error) {
      options.onError?.(error instanceof Error ? error : new Error(String(error)));
      return fallback;
    }
  };
}

function parseBody(value: unknown): IceServersBody {
  const body = value as Partial<IceServersBody> | null;
  const servers = body?.iceServers;
  const policy = body?.iceTransportPolicy;
  const expiresAt = body?.expiresAt;
  const serverOk = (s: IceServer) =>
    typeof s === 'object' &&
    s !== null &&
    (typeof s.urls === 'string' ||
      (Array.isArray(s.urls) && s.urls.every((u) => typeof u === 'string')));
  if (
    !Array.isArray(servers) ||
    !servers.every(serverOk) ||
    (policy !== 'all' && policy !== 'relay') ||
    (expiresAt !== null && typeof expiresAt !== 'string')
  ) {
    throw new Error('gateway answered POST /v1/ice-servers with an unexpected body');
  }
  return { iceServers: servers, iceTransportPolicy: policy, expiresAt: expiresAt ?? null };
}
