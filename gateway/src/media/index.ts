/**
 * The media module: the engine seam (engine.ts, with the media endpoint media
 * applications use), the plain RTP relay engine and the SDP helpers the B2BUA
 * uses to anchor media on it. The applications themselves: `./apps/index.js`.
 */
export type {
  AudioCodec,
  MediaEndpoint,
  MediaEndpointEvents,
  MediaEndpointOptions,
  OutgoingRtp,
  RtpDirection,
  RtpPacketView,
  MediaTransport,
  WebRtcTransport,
  WebRtcTransportEvents,
  MediaEngine,
  MediaRouter,
  MediaRouterEvents,
  MediaRouterOptions,
  PlainRtpTransport,
  TransportStats,
} from './engine.js';
export { createRelayEngine, type RelayEngine, type RelayEngineOptions } from './relay-engine.js';
export {
  createMediaEngine,
  type MediaEngineFactory,
  type MediaEngineOptions,
} from './engine-loader.js';
export {
  createIceServerSource,
  type IceServerEntry,
  type IceServerSource,
  type IceServersAnswer,
  type IceTransportPolicy,
} from './ice-servers.js';
export type { RelayRouter } from './relay-router.js';
export type { RelayTransport, RelayTransportStats } from './relay-transport.js';
export {
  parseSdp,
  formatSdp,
  mediaEndpoint,
  rewriteEndpoint,
  direction,
  setDirection,
  bumpVersion,
  continueOrigin,
  MAX_SDP_LENGTH,
  type Sdp,
  type SdpLine,
  type SdpMedia,
  type SdpOrigin,
  type SdpConnection,
  type SdpDirection,
  type SdpAddressType,
  type SdpCodec,
  type SdpEndpoint,
  type RewriteOptions,
} from './sdp/index.js';
