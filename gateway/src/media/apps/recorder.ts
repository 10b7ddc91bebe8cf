/**
 * A recorder: what a leg hears and says, as 16-bit mono WAV files at the
 * codec's rate, one per direction (`in`: what the leg's peer sent, `out`: what
 * it was sent) and/or both mixed into one. Each direction is a {@link Track}
 * read on the pacer's tick, so the files keep real time (gaps are silence) and
 * stay aligned. Files are crash-safe ({@link WavWriter}: flushed every second).
 *
 * It ends once, with a {@link RecordResult}: `stopped` (by its owner),
 * `aborted` (its AbortSignal: a key press), `max-duration`, `silence` (the
 * peer stopped speaking), `closed` (the leg went away) or `error` (a file
 * could not be written: reported, and the call goes on).
 */
import type { Logger } from 'pino';
import type { MediaEndpoint, RtpDirection, RtpPacketView } from '../engine.js';
import type { PcmCodec } from './codec.js';
import type { Pacer } from './pacer.js';
import { Track } from './track.js';
import { FLUSH_MS, WavWriter } from './wav-writer.js';

export type RecordEndReason =
  'stopped' | 'aborted' | 'max-duration' | 'silence' | 'closed' | 'error';

export interface RecordFiles {
  /** What the leg's peer sent (the caller's voice). */
  readonly in?: string;
  /** What the leg's peer was sent (prompts, the other party). */
  readonly out?: string;
  /** Both directions mixed. */
  readonly mixed?: string;
}

export interface RecordOptions {
  readonly files: RecordFiles;
  /** Ends the recording after this long (result `max-duration`). */
  readonly maxDurationMs?: number;
  /**
   * Ends the recording when the peer (`in`) has been quiet this long after it
   * first spoke (result `silence`). Quiet: RMS below `threshold` (0..1,
   * default 0.01, about -40 dBFS).
   */
  readonly endOnSilence?: { readonly afterMs: number; readonly threshold?: number };
  readonly signal?: AbortSignal;
}

export interface RecordResult {
  readonly reason: RecordEndReason;
  readonly files: RecordFiles;
  /** Length of the recording, ms. */
  readonly durationMs: number;
  readonly sampleRate: number;
  readonly error?: Error;
}

export interface RecorderDeps {
  readonly endpoint: MediaEndpoint;
  readonly codec: PcmCodec;
  readonly pacer: Pacer;
  readonly logger: Logger;
  readonly onStart?: () => void;
  readonly onEnd?: (result: RecordResult) => void;
}

const FLUSH_TICKS = FLUSH_MS / 20;

export class Recorder {
  readonly files: RecordFiles;
  /** Resolves once, when the recording ends and its files are closed; never rejects. */
  readonly done: Promise<RecordResult>;
  readonly #deps: RecorderDeps;
  readonly #options: RecordOptions;
  readonly #in: Track;
  readonly #out: Track;
  readonly #writers: { in?: WavWriter; out?: WavWriter; mixed?: WavWriter } = {};
  readonly #unsubscribe: () => void;
  #resolve!: (result: RecordResult) => void;
  #ticks = 0;
  #ended = false;
  #heardSpeech = false;
  #quietTicks = 0;
  readonly #onRtp = (packet: RtpPacketView, direction: RtpDirection) => {
    const pt = this.#deps.endpoint.codec.payloadType;
    (direction === 'in' ? this.#in : this.#out).push(packet, pt);
  };
  readonly #onAbort = () => void this.#finish('aborted');
  readonly #onClose = () => void this.#finish('closed');

  constructor(deps: RecorderDeps, options: RecordOptions) {
    this.#deps = deps;
    this.#options = options;
    this.files = { ...options.files };
    this.#in = new Track(deps.codec);
    this.#out = new Track(deps.codec);
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    const rate = deps.codec.sampleRate;
    for (const key of ['in', 'out', 'mixed'] as const) {
      const path = options.files[key];
      if (path) this.#writers[key] = new WavWriter(path, rate, (error) => this.#failed(key, error));
    }
    deps.onStart?.();
    deps.endpoint.on('rtp', this.#onRtp);
    deps.endpoint.once('close', this.#onClose);
    options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#unsubscribe = deps.pacer.subscribe(() => this.#tick());
    if (Object.keys(this.#writers).length === 0) {
      void this.#finish('error', new Error('a recording needs at least one file'));
    } else if (options.signal?.aborted || deps.endpoint.closed) {
      void this.#finish(deps.endpoint.closed ? 'closed' : 'aborted');
    }
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Ends the recording (result `stopped`); resolves with the result once the files are closed. */
  stop(): Promise<RecordResult> {
    void this.#finish('stopped');
    return this.done;
  }

  #tick(): void {
    if (this.#ended) return;
    const heard = this.#in.pull();
    const sent = this.#out.pull();
    const w = this.#writers;
    w.in?.append(heard);
    w.out?.append(sent);
    if (w.mixed) {
      const mixed = new Int16Array(heard.length);
      for (let i = 0; i < heard.length; i += 1) {
        const v = heard[i]! + sent[i]!;
        mixed[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      w.mixed.append(mixed);
    }
    this.#ticks += 1;
    if (this.#ticks % FLUSH_TICKS === 0) for (const writer of Object.values(w)) void writer.flush();
    const max = this.#options.maxDurationMs;
    if (max !== undefined && this.#ticks * 20 >= max) {
      void this.#finish('max-duration');
      return;
    }
    const silence = this.#options.endOnSilence;
    if (silence) {
      const threshold = (silence.threshold ?? 0.01) * 32768;
      if (rms(heard) >= threshold) {
        this.#heardSpeech = true;
        this.#quietTicks = 0;
      } else if (this.#heardSpeech && ++this.#quietTicks * 20 >= silence.afterMs) {
        void this.#finish('silence');
      }
    }
  }

  #failed(key: keyof RecordFiles, error: Error): void {
    this.#deps.logger.warn({ err: error, file: this.files[key] }, 'recording could not be written');
    void this.#finish('error', error);
  }

  async #finish(reason: RecordEndReason, error?: Error): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    this.#unsubscribe();
    this.#deps.endpoint.off('rtp', this.#onRtp);
    this.#deps.endpoint.off('close', this.#onClose);
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    await Promise.all(Object.values(this.#writers).map((w) => w.close()));
    const result: RecordResult = {
      reason,
      files: this.files,
      durationMs: this.#ticks * 20,
      sampleRate: this.#deps.codec.sampleRate,
      ...(error ? { error } : {}),
    };
    this.#deps.logger.debug(
      { reason, durationMs: result.durationMs, files: this.files, error: error?.message },
      'recording ended',
    );
    this.#deps.onEnd?.(result);
    this.#resolve(result);
  }
}

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i += 1) sum += pcm[i]! * pcm[i]!;
  return Math.sqrt(sum / pcm.length);
}
