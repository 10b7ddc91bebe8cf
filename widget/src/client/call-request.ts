/**
 * What one attempt asks for, from the element's options: the destination (a
 * queue, or a listing's `listing.<id>`), the company's token request, the
 * sip.js user agent's options (the WebSocket, ICE servers and policy) and
 * the INVITE's (its target, the token, the impression, audio and the data
 * channel). Pure: the CallClient passes in its handlers.
 */
import { DATA_CHANNEL_LABEL } from '@parley/shared/protocol';
import type { CallClientOptions } from '../api/call-stack.js';
import type { ConnectionConfig } from './connection-config.js';
import { DEFAULT_DOMAIN, ICE_GATHERING_TIMEOUT_MS, IMPRESSION_PATTERN } from './defaults.js';
import type { SipBye, SipInviterOptions, SipUserAgentOptions } from './sip-stack.js';
import type { TokenRequest } from './token-prefetch.js';

/** A listing's web reference is the destination `listing.<id>` (docs/marketplace.md). */
export function destination(options: CallClientOptions): string {
  const { listing, queue } = options;
  return listing ? `listing.${listing}` : queue;
}

/** What the company's token endpoint is asked; undefined without a token URL. */
export function tokenRequest(
  options: CallClientOptions,
  baseUrl: string,
): TokenRequest | undefined {
  const { listing, impression, tokenUrl } = options;
  if (!tokenUrl) return undefined;
  return {
    url: new URL(tokenUrl, baseUrl).href,
    queue: destination(options),
    extra: { ...(listing ? { listing } : {}), ...(impression ? { impression } : {}) },
  };
}

/** The user agent's options: the WebSocket, no REGISTER (the visitor only calls out). */
export function userAgentOptions(
  config: Extract<ConnectionConfig, { ok: true }>,
  onDisconnect: (error?: Error) => void,
): SipUserAgentOptions {
  return {
    transportOptions: { server: config.server },
    sessionDescriptionHandlerFactoryOptions: {
      // Always set: sip.js's default configuration adds a public STUN server.
      peerConnectionConfiguration: {
        iceServers: config.iceServers,
        ...(config.relayOnly ? { iceTransportPolicy: 'relay' as const } : {}),
      },
      iceGatheringTimeout: ICE_GATHERING_TIMEOUT_MS,
    },
    logLevel: 'error',
    delegate: { onDisconnect },
  };
}

/** The INVITE: audio, a data channel created before the offer, the token. */
export function inviteRequest(
  options: CallClientOptions,
  token: string,
  handlers: {
    readonly onDataChannel: (channel: RTCDataChannel) => void;
    readonly onBye: (bye: SipBye) => void;
  },
): { readonly target: string; readonly options: SipInviterOptions } {
  const { impression } = options;
  return {
    target: `sip:${destination(options)}@${options.domain || DEFAULT_DOMAIN}`,
    options: {
      extraHeaders: [
        `Authorization: Bearer ${token}`,
        ...(impression && IMPRESSION_PATTERN.test(impression)
          ? [`X-Parley-Impression: ${impression}`]
          : []),
      ],
      sessionDescriptionHandlerOptions: {
        constraints: { audio: true, video: false },
        dataChannel: true,
        dataChannelLabel: DATA_CHANNEL_LABEL,
        iceGatheringTimeout: ICE_GATHERING_TIMEOUT_MS,
        onDataChannel: handlers.onDataChannel,
      },
      delegate: { onBye: handlers.onBye },
      earlyMedia: true,
    },
  };
}
