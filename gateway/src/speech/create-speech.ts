/**
 * The speech module from the config: the text-to-speech engine and the
 * transcriber the config names. Nothing starts here (no process, no
 * directory): the first `synthesize` and the first stream do.
 */
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import type { Config } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import { PocketsphinxTranscriber } from './pocketsphinx/pocketsphinx-transcriber.js';
import type { SpeechMetrics } from './speech-metrics.js';
import type { Transcriber } from './transcriber.js';
import { FliteTextToSpeech } from './tts/flite-tts.js';
import type { TextToSpeech } from './tts/text-to-speech.js';
import { WebSocketTranscriber } from './websocket/websocket-transcriber.js';

export interface Speech {
  readonly tts: TextToSpeech;
  readonly transcriber: Transcriber;
  /** Closes both (streams end with `close`, running syntheses are killed). Safe twice. */
  close(): Promise<void>;
}

export interface SpeechDependencies {
  readonly logger: Logger;
  readonly metrics?: SpeechMetrics | undefined;
}

/** `speech.tts.cacheDir`, else `speech-cache` beside the SQLite file (or in the temporary directory). */
export function speechCacheDir(config: Pick<Config, 'speech' | 'storage'>): string {
  if (config.speech.tts.cacheDir) return resolve(config.speech.tts.cacheDir);
  if (config.storage.path === ':memory:') {
    return join(tmpdir(), `parley-speech-cache-${process.getuid?.() ?? 'user'}`);
  }
  return join(dirname(resolve(config.storage.path)), 'speech-cache');
}

export function createSpeech(
  config: Pick<Config, 'speech' | 'storage'>,
  dependencies: SpeechDependencies,
): Speech {
  const logger = dependencies.logger.child({ module: 'speech' });
  const { speech } = config;
  const tts = new FliteTextToSpeech({
    cacheDir: speechCacheDir(config),
    voices: speech.tts.voices,
    defaultVoice: speech.tts.defaultVoice,
    maxConcurrent: speech.tts.maxConcurrent,
    timeoutMs: speech.tts.timeoutMs,
    maxTextLength: speech.tts.maxTextLength,
    cacheMaxBytes: speech.tts.cacheMaxMegabytes * 1024 * 1024,
    logger,
    metrics: dependencies.metrics,
  });
  const transcriber: Transcriber =
    speech.engine === 'websocket' && speech.websocket
      ? new WebSocketTranscriber({
          ...speech.websocket,
          endTimeoutMs: speech.endTimeoutMs,
          logger,
          metrics: dependencies.metrics,
        })
      : new PocketsphinxTranscriber({
          ...speech.pocketsphinx,
          endTimeoutMs: speech.endTimeoutMs,
          logger,
          metrics: dependencies.metrics,
        });
  let closed: Promise<void> | undefined;
  return {
    tts,
    transcriber,
    close() {
      closed ??= Promise.all([tts.close(), transcriber.close()]).then(() => undefined);
      return closed;
    },
  };
}
