/**
 * A flow's recording of the caller (the `Recording` port): the media
 * applications' recorder writing the caller's direction to a WAV file, and
 * the level of each 20 ms frame (from a PCM feed of the same direction at the
 * codec's rate) so the `record` verb finds silence in frames, whatever the
 * machine's load. A full disk or an unwritable file ends it with `error`; the
 * call goes on.
 */
import { EventEmitter } from 'node:events';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ParleyError } from '@parley/shared/errors';
import type { Recording, RecordingEvents, RecordingOptions } from '../../flows/ports.js';
import type { LegMedia, PcmFeed, Recorder } from '../../media/apps/index.js';

type Written = { readonly path: string; readonly durationMs: number; readonly bytes: number };

export class CallerRecording extends EventEmitter<RecordingEvents> implements Recording {
  readonly #path: string;
  readonly #recorder: Recorder;
  readonly #levels: PcmFeed;
  #stopped: Promise<Written> | undefined;

  private constructor(media: LegMedia, options: RecordingOptions) {
    super();
    this.#path = options.path;
    this.#recorder = media.record({ files: { in: options.path }, signal: options.signal });
    this.#levels = media.feed({
      sampleRate: media.codec.sampleRate,
      direction: 'in',
      highBandNoise: false,
    });
    this.#levels.readable.on('data', (chunk: Buffer) => this.emit('level', dbfs(chunk)));
    void this.#recorder.done.then((result) => {
      this.#levels.close();
      // Nobody listening (the verb is over): nothing to tell, and an unheard 'error' would throw.
      if (result.reason === 'error' && this.listenerCount('error') > 0)
        this.emit(
          'error',
          new ParleyError('recording_failed', result.error?.message ?? 'the recording failed'),
        );
    });
  }

  /** Starts recording; rejects `recording_failed` when the directory cannot be made. */
  static async start(media: LegMedia, options: RecordingOptions): Promise<CallerRecording> {
    try {
      await mkdir(dirname(options.path), { recursive: true });
    } catch (error) {
      throw new ParleyError(
        'recording_failed',
        `cannot make the recordings directory: ${(error as Error).message}`,
      );
    }
    return new CallerRecording(media, options);
  }

  stop(): Promise<Written> {
    this.#stopped ??= (async () => {
      this.#levels.close();
      const result = await this.#recorder.stop();
      const bytes = await stat(this.#path).then(
        (s) => s.size,
        () => 0,
      );
      return { path: this.#path, durationMs: result.durationMs, bytes };
    })();
    return this.#stopped;
  }
}

/** The frame's RMS level in dBFS (-90 for digital silence). */
export function dbfs(chunk: Buffer): number {
  const n = chunk.length >> 1;
  if (n === 0) return -90;
  let sum = 0;
  for (let i = 0; i < n; i += 1) {
    const s = chunk.readInt16LE(i * 2);
    sum += s * s;
  }
  const rms = Math.sqrt(sum / n) / 32768;
  return rms <= 0 ? -90 : Math.max(-90, 20 * Math.log10(rms));
}
