/**
 * Text to speech behind one small interface: `synthesize` gives a WAV file
 * (mono, signed 16-bit PCM at the rate asked for) that the media side plays
 * from disk, cached by (engine, voice, rate, text) so a prompt is spoken once.
 */
import type { ParleyError } from '@parley/shared/errors';

import type { PcmFormat, SpeechSampleRate } from '../pcm.js';

export interface SynthesizeOptions {
  /** One of the configured voices; default the configured default voice. */
  readonly voice?: string;
  /** 8000 (G.711 legs; the default) or 16000. */
  readonly sampleRate?: SpeechSampleRate;
  /** Gives up (and kills the synthesiser) when aborted. */
  readonly signal?: AbortSignal;
}

export interface SpeechAudio {
  /** A complete RIFF/WAVE file; the cache never names a half-written one. */
  readonly path: string;
  readonly format: PcmFormat;
  /** Byte offset of the first sample in the file (after the RIFF header). */
  readonly dataOffset: number;
  readonly durationMs: number;
  readonly voice: string;
  /** Served from the cache (or from a synthesis already running for the same text). */
  readonly cached: boolean;
}

export type TextToSpeechErrorCode =
  'speech_text_invalid' | 'speech_voice_unknown' | 'speech_synthesis_failed';
export type TextToSpeechError = ParleyError<TextToSpeechErrorCode>;

export interface TextToSpeech {
  /** `flite`: part of the cache key. */
  readonly engine: string;
  readonly voices: readonly string[];
  readonly defaultVoice: string;
  /** Rejects with a {@link TextToSpeechError}. */
  synthesize(text: string, options?: SynthesizeOptions): Promise<SpeechAudio>;
  /** Waits for running syntheses to stop (they are killed). Safe twice. */
  close(): Promise<void>;
}
