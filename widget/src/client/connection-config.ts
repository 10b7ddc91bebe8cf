/**
 * Where a call connects and how its peer connection gathers, from the page's
 * `gateway` attribute and the token endpoint's `gateway` answer; or why it
 * cannot (an `invalid_config` detail).
 */
import type { GatewayInfo } from '@parley/shared/screening';
import { sipWebSocketUrl } from './gateway-url.js';

export type ConnectionConfig =
  | {
      readonly ok: true;
      /** The SIP WebSocket URL. */
      readonly server: string;
      readonly iceServers: RTCIceServer[];
      readonly relayOnly: boolean;
    }
  | { readonly ok: false; readonly detail: string };

export function connectionConfig(
  /** The page's gateway attribute, if any. */
  named: string | undefined,
  answered: GatewayInfo | undefined,
  baseUrl: string,
): ConnectionConfig {
  const gateway = named ?? answered?.url;
  const server = gateway === undefined ? undefined : sipWebSocketUrl(gateway, baseUrl);
  if (server === undefined) {
    const detail =
      gateway === undefined
        ? 'no gateway URL (attribute or token response)'
        : `bad gateway URL ${gateway}`;
    return { ok: false, detail };
  }
  const ice = iceServers(answered);
  const relayOnly = answered?.iceTransportPolicy === 'relay';
  // The browser would gather nothing and the call would die in silence.
  if (relayOnly && !ice.some(isTurnServer))
    return { ok: false, detail: 'relay-only ICE, but the token response names no TURN server' };
  return { ok: true, server, iceServers: ice, relayOnly };
}

function iceServers(gateway: GatewayInfo | undefined): RTCIceServer[] {
  return (gateway?.iceServers ?? []).map((server) => ({
    urls: typeof server.urls === 'string' ? server.urls : [...server.urls],
    ...(server.username === undefined ? {} : { username: server.username }),
    ...(server.credential === undefined ? {} : { credential: server.credential }),
  }));
}

function isTurnServer(server: RTCIceServer): boolean {
  const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
  return urls.some((u) => /^turns?:/i.test(u));
}
