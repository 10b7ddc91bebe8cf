/**
 * Text to speech with flite (Debian's `flite` 2.2): `flite -voice V -t TEXT
 * -o out.wav`, then sox to the rate asked for (flite's voices speak at their
 * own rate: slt, awb, rms, kal16 at 16 kHz, kal at 8 kHz). Measured on this
 * machine: 10–100 ms per sentence, so a few processes at once are plenty;
 * more requests wait their turn within the same timeout.
 *
 * flite speaks with its default voice when it does not know the one named
 * (and exits 0), so voices are checked against the configured list first.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ParleyError } from '@parley/shared/errors';

import type { Logger } from '../../observability/index.js';
import type { SpeechSampleRate } from '../pcm.js';
import type { SpeechMetrics } from '../speech-metrics.js';
import { AudioCache } from './audio-cache.js';
import { Semaphore } from './semaphore.js';
import type {
  SpeechAudio,
  SynthesizeOptions,
  TextToSpeech,
  TextToSpeechErrorCode,
} from './text-to-speech.js';

const run = promisify(execFile);

export { FLITE_VOICES } from '../../config/speech.js';

export interface FliteOptions {
  readonly cacheDir: string;
  readonly voices: readonly string[];
  readonly defaultVoice: string;
  /** flite processes at once. */
  readonly maxConcurrent: number;
  /** From the request to the file in the cache, waiting included. */
  readonly timeoutMs: number;
  /** Characters, after whitespace is collapsed. */
  readonly maxTextLength: number;
  readonly cacheMaxBytes: number;
  readonly logger: Logger;
  readonly metrics?: SpeechMetrics | undefined;
  /** The executables (tests wrap them). */
  readonly flite?: string;
  readonly sox?: string;
}

const SAMPLE_RATES: readonly number[] = [8000, 16000];
/** How a text is rendered (flite, then sox repeatable): part of a cached file's key. */
const RENDERING = 'sox-R';

export class FliteTextToSpeech implements TextToSpeech {
  readonly engine = 'flite';
  readonly voices: readonly string[];
  readonly defaultVoice: string;
  readonly #options: FliteOptions;
  readonly #cache: AudioCache;
  readonly #slots: Semaphore;
  /** Syntheses running, by file name: a second request for the same text waits for the first. */
  readonly #inFlight = new Map<string, Promise<SpeechAudio>>();
  readonly #closing = new AbortController();
  #closed: Promise<void> | undefined;

  constructor(options: FliteOptions) {
    this.#options = options;
    this.voices = [...options.voices];
    this.defaultVoice = options.defaultVoice;
    this.#cache = new AudioCache({
      dir: options.cacheDir,
      maxBytes: options.cacheMaxBytes,
      logger: options.logger,
    });
    this.#slots = new Semaphore(options.maxConcurrent);
  }

  get cacheDir(): string {
    return this.#cache.dir;
  }

  async synthesize(rawText: string, options: SynthesizeOptions = {}): Promise<SpeechAudio> {
    try {
      const text = this.#checkText(rawText);
      const voice = options.voice ?? this.defaultVoice;
      if (!this.voices.includes(voice)) {
        throw fail('speech_voice_unknown', `"${voice}"; configured: ${this.voices.join(', ')}`);
      }
      const sampleRate = options.sampleRate ?? 8000;
      if (!SAMPLE_RATES.includes(sampleRate)) {
        throw fail('speech_text_invalid', `sample rate ${String(sampleRate)}: 8000 or 16000`);
      }
      if (this.#closed) throw fail('speech_synthesis_failed', 'text to speech is closed');
      // `RENDERING` in the key: a file made the old way is not taken for one made now.
      const key = createHash('sha256')
        .update(`${this.engine}\n${RENDERING}\n${voice}\n${sampleRate}\n${text}`)
        .digest('hex')
        .slice(0, 40);
      const name = `${this.engine}-${voice}-${sampleRate}-${key}.wav`;

      // Set before any await: a second request for the same text joins this one.
      let pending = this.#inFlight.get(name);
      const joined = pending !== undefined;
      if (!pending) {
        const made = this.#lookupOrMake(name, text, voice, sampleRate);
        pending = made;
        this.#inFlight.set(name, made);
        void made.finally(() => this.#inFlight.delete(name)).catch(() => undefined);
      }
      const audio = await abortable(pending, options.signal);
      const result = joined ? { ...audio, cached: true } : audio;
      this.#options.metrics?.ttsRequests.inc({ result: result.cached ? 'hit' : 'miss' });
      return result;
    } catch (error) {
      this.#options.metrics?.ttsRequests.inc({ result: 'error' });
      throw error;
    }
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort(new Error('text to speech closed'));
      await Promise.allSettled([...this.#inFlight.values()]);
    })();
    return this.#closed;
  }

  async #lookupOrMake(
    name: string,
    text: string,
    voice: string,
    sampleRate: SpeechSampleRate,
  ): Promise<SpeechAudio> {
    const header = await this.#cache.lookup(name);
    if (header)
      return this.#audio(name, header.dataOffset, header.dataBytes, sampleRate, voice, true);
    return this.#make(name, text, voice, sampleRate);
  }

  /**
   * One synthesis, bounded by the timeout and by close(); not by one
   * caller's signal, since other callers may be waiting for the same text.
   */
  async #make(
    name: string,
    text: string,
    voice: string,
    sampleRate: SpeechSampleRate,
  ): Promise<SpeechAudio> {
    const started = performance.now();
    const deadline = AbortSignal.any([
      AbortSignal.timeout(this.#options.timeoutMs),
      this.#closing.signal,
    ]);
    let release: (() => void) | undefined;
    try {
      release = await this.#slots.acquire(deadline);
      await this.#cache.store(name, async (tmp) => {
        const spoken = tmp.replace(/\.wav$/, '.flite.wav');
        try {
          await run(this.#options.flite ?? 'flite', ['-voice', voice, '-t', text, '-o', spoken], {
            signal: deadline,
            killSignal: 'SIGKILL',
          });
          await run(
            this.#options.sox ?? 'sox',
            // -R: sox's dither after the rate change is seeded the same way each time, so one
            // text always renders to the same bytes (every gateway of a cluster plays the same
            // file; a test's speech check reads the same sound on every machine).
            [
              '-R',
              spoken,
              '-r',
              String(sampleRate),
              '-c',
              '1',
              '-b',
              '16',
              '-e',
              'signed-integer',
              tmp,
            ],
            { signal: deadline, killSignal: 'SIGKILL' },
          );
        } finally {
          await rm(spoken, { force: true });
        }
      });
    } catch (error) {
      const why = deadline.aborted
        ? this.#closing.signal.aborted
          ? 'text to speech closed'
          : `no result within ${this.#options.timeoutMs} ms`
        : (error as Error).message;
      this.#options.logger.warn({ voice, chars: text.length, why }, 'text to speech failed');
      throw fail('speech_synthesis_failed', why, error);
    } finally {
      release?.();
    }
    this.#options.metrics?.ttsSynthesisSeconds.observe((performance.now() - started) / 1000);
    const header = await this.#cache.lookup(name);
    if (!header) throw fail('speech_synthesis_failed', 'the synthesised file is unreadable');
    return this.#audio(name, header.dataOffset, header.dataBytes, sampleRate, voice, false);
  }

  #audio(
    name: string,
    dataOffset: number,
    dataBytes: number,
    sampleRate: number,
    voice: string,
    cached: boolean,
  ): SpeechAudio {
    return {
      path: this.#cache.path(name),
      format: { encoding: 'pcm_s16le', sampleRate, channels: 1 },
      dataOffset,
      durationMs: Math.round((dataBytes / 2 / sampleRate) * 1000),
      voice,
      cached,
    };
  }

  /** Whitespace (control characters included) collapsed to single spaces; empty or too long is refused. */
  #checkText(raw: string): string {
    if (typeof raw !== 'string') throw fail('speech_text_invalid', 'text must be a string');
    // eslint-disable-next-line no-control-regex
    const text = raw.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
    if (text === '') throw fail('speech_text_invalid', 'empty text');
    if (text.length > this.#options.maxTextLength) {
      throw fail(
        'speech_text_invalid',
        `${text.length} characters, at most ${this.#options.maxTextLength}`,
      );
    }
    return text;
  }
}

/** The shared synthesis, given up by this caller alone when its signal aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted)
    return Promise.reject(fail('speech_synthesis_failed', 'aborted by the caller'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(fail('speech_synthesis_failed', 'aborted by the caller'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function fail(code: TextToSpeechErrorCode, detail: string, cause?: unknown): ParleyError {
  return new ParleyError(code, detail, { cause, expose: true });
}
