export { startGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { loadConfig, type Config, type ConfigInput } from './config/index.js';
export type {
  MediaEngine,
  MediaEngineFactory,
  MediaEngineOptions,
  MediaRouter,
  MediaRouterEvents,
  MediaRouterOptions,
  MediaTransport,
  PlainRtpTransport,
  WebRtcTransport,
  WebRtcTransportEvents,
  AudioCodec,
  TransportStats,
} from './media/index.js';
