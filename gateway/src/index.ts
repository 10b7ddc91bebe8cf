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
export type {
  Speech,
  TextToSpeech,
  SpeechAudio,
  SynthesizeOptions,
  Transcriber,
  TranscriberStream,
  TranscriberStreamEvents,
  PartialResult,
  FinalResult,
  WordTiming,
} from './speech/index.js';
