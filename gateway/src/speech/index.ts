/**
 * Speech: text to speech (flite, cached on disk) and streaming speech to text
 * behind the Transcriber seam (pocketsphinx in decoder processes, or a
 * company's recogniser over a WebSocket). docs/speech.md.
 */
export {
  createSpeech,
  speechCacheDir,
  type Speech,
  type SpeechDependencies,
} from './create-speech.js';
export type {
  FinalResult,
  PartialResult,
  Transcriber,
  TranscriberError,
  TranscriberErrorCode,
  TranscriberStream,
  TranscriberStreamEvents,
  TranscriberStreamOptions,
  TranscriberStreamState,
  WordTiming,
} from './transcriber.js';
export type {
  SpeechAudio,
  SynthesizeOptions,
  TextToSpeech,
  TextToSpeechError,
  TextToSpeechErrorCode,
} from './tts/text-to-speech.js';
export { FLITE_VOICES, FliteTextToSpeech, type FliteOptions } from './tts/flite-tts.js';
export {
  PocketsphinxTranscriber,
  type PocketsphinxOptions,
} from './pocketsphinx/pocketsphinx-transcriber.js';
export {
  WebSocketTranscriber,
  type WebSocketTranscriberOptions,
} from './websocket/websocket-transcriber.js';
export {
  startRecogniserServer,
  type RecogniserServer,
  type RecogniserServerOptions,
} from './websocket/recogniser-server.js';
export { PROTOCOL_VERSION, type ClientMessage, type ServerMessage } from './websocket/protocol.js';
export {
  frames,
  parseWav,
  parseWavHeader,
  readWav,
  WavFormatError,
  type PcmFormat,
  type SpeechSampleRate,
  type WavAudio,
  type WavHeader,
} from './pcm.js';
export type { SpeechMetrics } from './speech-metrics.js';
