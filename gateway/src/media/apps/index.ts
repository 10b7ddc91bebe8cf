/**
 * Media applications (issue 10 item 5): players, recorders, DTMF listeners
 * and transcriber feeds on a leg's media endpoint. See media-apps.ts.
 */
export { MediaApps, LegMedia, type MediaAppsMetrics, type MediaAppsOptions } from './media-apps.js';
export { Player, type PlayEndReason, type PlayOptions, type PlayResult } from './player.js';
export {
  Recorder,
  type RecordEndReason,
  type RecordFiles,
  type RecordOptions,
  type RecordResult,
} from './recorder.js';
export {
  DtmfListener,
  type Digit,
  type DigitSource,
  type DtmfListenerEvents,
} from './dtmf-listener.js';
export { PcmFeed, type PcmFeedOptions } from './pcm-feed.js';
export { parseWavHeader, type WavFormat } from './wav.js';
export {
  beep,
  musicOnHold,
  pcmStream,
  silence,
  tone,
  wavFile,
  WavError,
  type PcmSource,
  type ToneOptions,
} from './sources.js';
export { Pacer, FRAME_MS, type PacerStats } from './pacer.js';
export { pcmCodecFor, SUPPORTED_CODECS, type PcmCodec } from './codec.js';
export { Resampler } from './resampler.js';
export { DecodedPrompts, type DecodedPromptsOptions } from './decoded-prompts.js';
