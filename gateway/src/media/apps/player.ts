/**
 * A player: PCM from a {@link PcmSource}, resampled to the leg's codec rate,
 * encoded and sent on the leg's media endpoint one 20 ms frame per pacer tick.
 * The source is read ahead (up to a second) off the tick, so a slow disk
 * never delays a frame; the first frame goes out as soon as it is ready
 * instead of waiting for the next tick.
 *
 * A player ends once, with a {@link PlayResult}: `done` (the source ended and
 * the last frame left), `aborted` (its AbortSignal), `replaced` (another
 * player started on the leg), `closed` (the leg went away) or `error` (the
 * source could not be read: the leg stays up, nothing more is sent).
 */
import type { Logger } from 'pino';
import type { MediaEndpoint } from '../engine.js';
import type { PcmCodec } from './codec.js';
import type { Pacer } from './pacer.js';
import { Resampler } from './resampler.js';
import type { PcmSource } from './sources.js';

export type PlayEndReason = 'done' | 'aborted' | 'replaced' | 'closed' | 'error';

export interface PlayResult {
  readonly reason: PlayEndReason;
  readonly source: string;
  /** Audio sent, ms. */
  readonly playedMs: number;
  /** Ticks on which no frame was ready though the source had not ended (a slow source). */
  readonly underruns: number;
  readonly error?: Error;
}

export interface PlayOptions {
  /** Play the source again from its start each time it ends, until stopped. */
  readonly loop?: boolean;
  /** Stops the player (result `aborted`): a key press, the flow moving on. */
  readonly signal?: AbortSignal;
}

export interface PlayerDeps {
  readonly endpoint: MediaEndpoint;
  readonly codec: PcmCodec;
  readonly pacer: Pacer;
  readonly logger: Logger;
  /** Clock (ms) for the time to the first packet in logs. */
  readonly now: () => number;
  readonly onStart?: () => void;
  readonly onEnd?: (result: PlayResult) => void;
}

/** Frames read ahead of the tick: one second. */
const AHEAD = 50;

export class Player {
  #source: string;
  /** Resolves once, when the player ends; never rejects. */
  readonly done: Promise<PlayResult>;
  readonly #deps: PlayerDeps;
  readonly #options: PlayOptions;
  readonly #frames: Int16Array[] = [];
  readonly #startedAt: number;
  #resolve!: (result: PlayResult) => void;
  #partial: Int16Array;
  #partialLength = 0;
  #sourceEnded = false;
  #ended = false;
  #sent = 0;
  #underruns = 0;
  #timestamp = Math.floor(Math.random() * 2 ** 31);
  #unsubscribe: (() => void) | undefined;
  #wakeReader: (() => void) | undefined;
  readonly #onAbort = () => this.stop('aborted');
  readonly #onClose = () => this.stop('closed');

  /**
   * `source` may still be opening (a WAV file's header being read): a file
   * that cannot be opened ends the player with `error`.
   */
  constructor(deps: PlayerDeps, source: PcmSource | Promise<PcmSource>, options: PlayOptions = {}) {
    this.#deps = deps;
    this.#options = options;
    this.#source = source instanceof Promise ? '(opening)' : source.name;
    this.#partial = new Int16Array(deps.codec.frameSamples);
    this.#startedAt = deps.now();
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    deps.onStart?.();
    if (options.signal?.aborted || deps.endpoint.closed) {
      // Never read: a source still opening must not become an unhandled rejection.
      if (source instanceof Promise) source.catch(() => undefined);
      this.#finish(deps.endpoint.closed ? 'closed' : 'aborted');
      return;
    }
    options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    deps.endpoint.once('close', this.#onClose);
    this.#unsubscribe = deps.pacer.subscribe(() => this.#tick());
    void this.#read(source);
  }

  /** The source's name (a path, `tone:440`…). */
  get source(): string {
    return this.#source;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Ends the player now (safe twice; the first reason wins). */
  stop(reason: Exclude<PlayEndReason, 'done' | 'error'> = 'aborted'): void {
    this.#finish(reason);
  }

  async #read(opening: PcmSource | Promise<PcmSource>): Promise<void> {
    const codec = this.#deps.codec;
    try {
      const source = await opening;
      this.#source = source.name;
      if (this.#ended) return;
      const resampler = new Resampler(source.sampleRate, codec.sampleRate);
      do {
        let empty = true;
        for await (const chunk of source.chunks()) {
          if (this.#ended) return;
          if (chunk.length > 0) empty = false;
          this.#append(resampler.process(chunk));
          while (this.#frames.length >= AHEAD && !this.#ended) {
            await new Promise<void>((resolve) => (this.#wakeReader = resolve));
          }
          if (this.#ended) return;
        }
        // An empty source would loop forever without a frame.
        if (empty) break;
      } while (this.#options.loop && !this.#ended);
      if (this.#partialLength > 0) {
        this.#partial.fill(0, this.#partialLength);
        this.#frames.push(this.#partial);
        this.#partialLength = 0;
      }
      this.#sourceEnded = true;
      if (this.#sent === 0) this.#sendFirst();
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #append(pcm: Int16Array): void {
    const size = this.#deps.codec.frameSamples;
    let at = 0;
    while (at < pcm.length) {
      const n = Math.min(size - this.#partialLength, pcm.length - at);
      this.#partial.set(pcm.subarray(at, at + n), this.#partialLength);
      this.#partialLength += n;
      at += n;
      if (this.#partialLength === size) {
        this.#frames.push(this.#partial);
        this.#partial = new Int16Array(size);
        this.#partialLength = 0;
      }
    }
    if (this.#sent === 0) this.#sendFirst();
  }

  /** The first frame leaves as soon as it exists (answer → first prompt packet), not on the next tick. */
  #sendFirst(): void {
    if (this.#frames.length > 0 && !this.#ended) this.#send(this.#frames.shift()!);
  }

  #tick(): void {
    if (this.#ended) return;
    const frame = this.#frames.shift();
    if (frame) {
      this.#send(frame);
      if (this.#frames.length < AHEAD / 2) this.#wake();
      return;
    }
    if (this.#sourceEnded) {
      this.#finish('done');
      return;
    }
    if (this.#sent > 0) {
      // A slow source: the frame's time passes without audio (the receiver sees a gap).
      this.#underruns += 1;
      this.#timestamp = (this.#timestamp + this.#deps.codec.frameSamples) >>> 0;
    }
  }

  #send(frame: Int16Array): void {
    const { endpoint, codec } = this.#deps;
    if (this.#sent === 0) {
      this.#deps.logger.debug(
        { source: this.source, firstPacketMs: this.#deps.now() - this.#startedAt },
        'player started',
      );
    }
    endpoint.send({
      payloadType: endpoint.codec.payloadType,
      marker: this.#sent === 0,
      timestamp: this.#timestamp,
      payload: codec.encode(frame),
    });
    this.#sent += 1;
    this.#timestamp = (this.#timestamp + codec.frameSamples) >>> 0;
  }

  #wake(): void {
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
  }

  #fail(error: Error): void {
    if (this.#ended) return;
    this.#deps.logger.warn({ err: error, source: this.source }, 'player could not read its source');
    this.#finish('error', error);
  }

  #finish(reason: PlayEndReason, error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#unsubscribe?.();
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#deps.endpoint.off('close', this.#onClose);
    this.#frames.length = 0;
    this.#wake();
    const result: PlayResult = {
      reason,
      source: this.source,
      playedMs: this.#sent * 20,
      underruns: this.#underruns,
      ...(error ? { error } : {}),
    };
    this.#deps.logger.debug({ ...result, error: error?.message }, 'player ended');
    this.#deps.onEnd?.(result);
    this.#resolve(result);
  }
}
