/**
 * What every engine's stream shares: the state machine (open → ending →
 * closed), one `error` at most, one `close`, the end timeout, the written-audio
 * clock and the metrics. An engine subclass moves audio and results; it never
 * emits events itself.
 */
import { EventEmitter } from 'node:events';
import { ParleyError } from '@parley/shared/errors';

import type { Logger } from '../observability/index.js';
import type { SpeechMetrics } from './speech-metrics.js';
import type {
  FinalResult,
  PartialResult,
  TranscriberErrorCode,
  TranscriberStream,
  TranscriberStreamEvents,
  TranscriberStreamState,
} from './transcriber.js';

export interface StreamBaseOptions {
  readonly id: string;
  readonly engine: string;
  readonly sampleRate: number;
  /** After `end()`, how long the engine has to flush before the stream fails. */
  readonly endTimeoutMs: number;
  readonly logger: Logger;
  readonly metrics?: SpeechMetrics | undefined;
  /** Called once when the stream closes (the engine forgets it). */
  readonly onClosed?: () => void;
}

/** Write times kept to date partials: (written ms after the write, monotonic ms). */
interface WriteMark {
  readonly writtenMs: number;
  readonly at: number;
}

export abstract class TranscriberStreamBase
  extends EventEmitter<TranscriberStreamEvents>
  implements TranscriberStream
{
  readonly id: string;
  readonly sampleRate: number;
  protected readonly logger: Logger;
  readonly #options: StreamBaseOptions;
  #state: TranscriberStreamState = 'open';
  #samples = 0;
  #marks: WriteMark[] = [];
  #endTimer: NodeJS.Timeout | undefined;
  #failed = false;

  constructor(options: StreamBaseOptions) {
    super();
    this.id = options.id;
    this.sampleRate = options.sampleRate;
    this.logger = options.logger.child({ stream: options.id, engine: options.engine });
    this.#options = options;
    options.metrics?.speechStreams.inc({ engine: options.engine });
  }

  get state(): TranscriberStreamState {
    return this.#state;
  }

  get writtenMs(): number {
    return (this.#samples * 1000) / this.sampleRate;
  }

  write(samples: Int16Array): boolean {
    if (this.#state !== 'open') return false;
    if (samples.length === 0) return true;
    this.#samples += samples.length;
    this.#marks.push({ writtenMs: this.writtenMs, at: performance.now() });
    // A stream whose engine never reports audioMs would keep every mark.
    if (this.#marks.length > 3000) this.#marks.splice(0, 1500);
    this.sendAudio(samples);
    return true;
  }

  end(): void {
    if (this.#state !== 'open') return;
    this.#state = 'ending';
    this.#endTimer = setTimeout(
      () =>
        this.fail('transcriber_failed', `no end of stream within ${this.#options.endTimeoutMs} ms`),
      this.#options.endTimeoutMs,
    );
    this.sendEnd();
  }

  close(): void {
    this.#finish();
  }

  /** The engine's transport for audio (called only while open). */
  protected abstract sendAudio(samples: Int16Array): void;
  /** The engine flushes, then calls `ended()`. */
  protected abstract sendEnd(): void;
  /** Free the engine's resources for this stream (called once, on close). */
  protected abstract release(): void;

  protected emitPartial(partial: PartialResult): void {
    if (this.#state === 'closed') return;
    if (partial.audioMs !== undefined) this.#observeDelay(partial.audioMs);
    this.#emit('partial', partial);
  }

  protected emitFinal(final: FinalResult): void {
    if (this.#state === 'closed') return;
    this.#emit('final', final);
  }

  /** The engine flushed everything after `end()`. */
  protected ended(): void {
    this.#finish();
  }

  /** The engine failed: one `error`, then `close`. Later failures are ignored. */
  protected fail(code: TranscriberErrorCode, detail: string, cause?: unknown): void {
    if (this.#state === 'closed' || this.#failed) return;
    this.#failed = true;
    const error = new ParleyError(code, detail, { cause });
    this.logger.warn({ code, detail }, 'transcription stream failed');
    this.#options.metrics?.speechEngineErrors.inc({ engine: this.#options.engine, code });
    this.#emit('error', error);
    this.#finish();
  }

  #finish(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#endTimer);
    this.#marks = [];
    try {
      this.release();
    } finally {
      this.#options.metrics?.speechStreams.dec({ engine: this.#options.engine });
      this.#options.onClosed?.();
      this.#emit('close');
      this.removeAllListeners();
    }
  }

  /** Partial delay: now minus when the last sample the partial covers was written. */
  #observeDelay(audioMs: number): void {
    const marks = this.#marks;
    const index = marks.findIndex((mark) => mark.writtenMs >= audioMs - 0.5);
    if (index < 0) return;
    const mark = marks[index];
    if (!mark) return;
    this.#options.metrics?.speechPartialDelaySeconds.observe(
      { engine: this.#options.engine },
      (performance.now() - mark.at) / 1000,
    );
    // Partials only move forward: older marks are done with.
    if (index > 0) marks.splice(0, index);
  }

  /** A stream that never ran: its `error` comes on a later tick, after the caller's listeners. */
  protected failLater(code: TranscriberErrorCode, detail: string): void {
    setImmediate(() => this.fail(code, detail));
  }

  /**
   * Listeners that throw must not break the engine; an `error` with no
   * listener must not throw either (Node's default): the caller may only
   * care about `close`.
   */
  #emit<K extends keyof TranscriberStreamEvents>(
    event: K,
    ...args: TranscriberStreamEvents[K]
  ): void {
    if (event === 'error' && this.listenerCount('error') === 0) return;
    try {
      (this.emit as (event: K, ...args: TranscriberStreamEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.logger.error({ err: error, event }, 'a transcription listener threw');
    }
  }
}
