/**
 * The Transcriber seam: streaming speech to text for one leg at a time.
 *
 * A `Transcriber` is an engine (pocketsphinx in child processes, or a
 * company's recogniser over a WebSocket); `open()` gives a `TranscriberStream`
 * per leg. The media side pushes PCM as it arrives (signed 16-bit, mono, at
 * `stream.sampleRate`, any frame size; 20 ms frames are what RTP gives) and
 * the stream emits, per utterance, `partial` results while the person speaks
 * (each one replaces the previous partial of that utterance) and one `final`.
 *
 * Lifecycle: `open` → `write`* → `end()` (flush: the last utterance's final,
 * then `close`) or `close()` (now, nothing more but `close`). An engine that
 * fails emits exactly one `error` and then `close`; the caller keeps its own
 * recording. `close` is emitted once, `close()` is safe twice, and nothing
 * (process, socket, timer) belongs to a closed stream.
 */
import type { EventEmitter } from 'node:events';
import type { ParleyError } from '@parley/shared/errors';

/** The codes a stream's `error` carries. */
export type TranscriberErrorCode =
  'transcriber_busy' | 'transcriber_unavailable' | 'transcriber_failed';
export type TranscriberError = ParleyError<TranscriberErrorCode>;

export interface PartialResult {
  /** The utterance this partial belongs to (0, 1, …: its final has the same number). */
  readonly utterance: number;
  /** The best guess so far for the whole utterance; replaces the previous partial. */
  readonly text: string;
  /**
   * How much of the stream (ms of audio from the first sample written) the
   * recogniser had heard when it made this guess; absent when the engine
   * does not say.
   */
  readonly audioMs?: number;
}

export interface WordTiming {
  readonly word: string;
  /** Milliseconds from the stream's first sample. */
  readonly startMs: number;
  readonly endMs: number;
  /** 0..1, when the engine gives one (pocketsphinx: the word's lattice posterior). */
  readonly confidence?: number;
}

export interface FinalResult {
  readonly utterance: number;
  /** The utterance's text; '' when what started as speech held no words (it clears the partial). */
  readonly text: string;
  /** Milliseconds from the stream's first sample to the first word's start. */
  readonly startMs: number;
  /** … to the last word's end. */
  readonly endMs: number;
  /** 0..1 when the engine gives one (pocketsphinx: the mean of the words' posteriors). */
  readonly confidence?: number;
  readonly words: readonly WordTiming[];
}

export interface TranscriberStreamEvents {
  partial: [PartialResult];
  final: [FinalResult];
  /** Once at most; `close` follows. */
  error: [TranscriberError];
  /** Once, last. */
  close: [];
}

export type TranscriberStreamState = 'open' | 'ending' | 'closed';

export interface TranscriberStream extends EventEmitter<TranscriberStreamEvents> {
  readonly id: string;
  /** What `write` takes: signed 16-bit mono PCM at this rate. */
  readonly sampleRate: number;
  readonly state: TranscriberStreamState;
  /** Milliseconds of audio written so far. */
  readonly writtenMs: number;
  /** Pushes PCM as it arrives. Returns false (and drops it) once the stream is ending or closed. */
  write(samples: Int16Array): boolean;
  /** No more audio: the last utterance is flushed (its final), then `close`. Safe twice. */
  end(): void;
  /** Stops now: no more results, then `close`. Safe twice. */
  close(): void;
}

export interface TranscriberStreamOptions {
  /** For logs (the leg or call id); default a generated one. */
  readonly id?: string;
}

export interface Transcriber {
  /** `pocketsphinx`, `websocket`: the metrics' `engine` label. */
  readonly engine: string;
  /** The sample rate streams take (the media side resamples to it). */
  readonly sampleRate: number;
  /** Streams open now. */
  readonly streamCount: number;
  /**
   * A stream for one leg. Never throws for run-time conditions: a stream that
   * cannot run (at capacity, engine down) emits `error` then `close` on a
   * later tick, so the listeners attached right after `open` hear it.
   */
  open(options?: TranscriberStreamOptions): TranscriberStream;
  /** Closes every stream (each emits `close`) and the engine's processes or sockets. Safe twice. */
  close(): Promise<void>;
}
