/**
 * A transcriber's feed: one direction of a leg (usually `in`, the caller) as
 * continuous PCM at the rate the recogniser wants (16 kHz mono 16-bit for
 * pocketsphinx), one 20 ms frame per pacer tick, silence included, as a
 * byte stream (s16le) ready to pipe into a process or a WebSocket.
 *
 * Backpressure-safe: the media path never waits for the consumer. While the
 * consumer reads, frames flow; when it falls behind by more than
 * `maxBufferedMs`, new frames are dropped (and counted) instead of buffered,
 * so a stuck recogniser costs bounded memory and the call is unaffected.
 *
 * `highBandNoise`: narrowband (G.711) speech upsampled to 16 kHz has nothing
 * above 4 kHz, which pocketsphinx's wideband model reads as a wrong spectrum
 * (it recognises nothing). Comfort noise at about -42 dBFS in the empty band,
 * measured here, restores recognition of flite prompts sent over PCMU/PCMA
 * (docs/benchmarks.md). On by default when upsampling from 8 kHz.
 */
import { Readable } from 'node:stream';
import type { MediaEndpoint, RtpDirection, RtpPacketView } from '../engine.js';
import type { PcmCodec } from './codec.js';
import type { Pacer } from './pacer.js';
import { Resampler } from './resampler.js';
import { Track } from './track.js';

export interface PcmFeedOptions {
  /** Default 16000. */
  readonly sampleRate?: number;
  /** Default `in`. */
  readonly direction?: RtpDirection;
  /** Default 5000. */
  readonly maxBufferedMs?: number;
  /** Default: true when the codec's rate is below 16 kHz and the feed's at or above it. */
  readonly highBandNoise?: boolean;
}

export interface PcmFeedDeps {
  readonly endpoint: MediaEndpoint;
  readonly codec: PcmCodec;
  readonly pacer: Pacer;
  readonly onStart?: () => void;
  readonly onEnd?: () => void;
}

export class PcmFeed {
  readonly sampleRate: number;
  /** s16le mono PCM. Ends when the feed is closed or the leg goes away. */
  readonly readable: Readable;
  /** Frames dropped because the consumer fell behind. */
  droppedFrames = 0;
  framesOut = 0;
  readonly #deps: PcmFeedDeps;
  readonly #track: Track;
  readonly #resampler: Resampler;
  readonly #direction: RtpDirection;
  readonly #maxBytes: number;
  readonly #noise: boolean;
  readonly #unsubscribe: () => void;
  #noiseState = 0x2545f491;
  #noisePrevious = 0;
  #closed = false;
  readonly #onRtp = (packet: RtpPacketView, direction: RtpDirection) => {
    if (direction === this.#direction)
      this.#track.push(packet, this.#deps.endpoint.codec.payloadType);
  };
  readonly #onClose = () => this.close();

  constructor(deps: PcmFeedDeps, options: PcmFeedOptions = {}) {
    this.#deps = deps;
    this.sampleRate = options.sampleRate ?? 16000;
    this.#direction = options.direction ?? 'in';
    this.#maxBytes = Math.round(((options.maxBufferedMs ?? 5000) * this.sampleRate * 2) / 1000);
    this.#noise =
      options.highBandNoise ?? (deps.codec.sampleRate < 16000 && this.sampleRate >= 16000);
    this.#track = new Track(deps.codec);
    this.#resampler = new Resampler(deps.codec.sampleRate, this.sampleRate);
    // Pull-less: data is pushed on the tick; read() has nothing to do.
    this.readable = new Readable({ read() {}, highWaterMark: this.#maxBytes });
    deps.onStart?.();
    deps.endpoint.on('rtp', this.#onRtp);
    deps.endpoint.once('close', this.#onClose);
    this.#unsubscribe = deps.pacer.subscribe(() => this.#tick());
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#deps.endpoint.off('rtp', this.#onRtp);
    this.#deps.endpoint.off('close', this.#onClose);
    this.readable.push(null);
    this.#deps.onEnd?.();
  }

  #tick(): void {
    if (this.#closed) return;
    const pcm = this.#resampler.process(this.#track.pull());
    if (this.readable.readableLength >= this.#maxBytes) {
      this.droppedFrames += 1;
      return;
    }
    if (this.#noise) this.#addHighBandNoise(pcm);
    this.framesOut += 1;
    this.readable.push(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  }

  /**
   * White noise low-passed (the mean of two neighbours) and shifted up by half
   * the sample rate (times (-1)^n): its energy lies toward 8 kHz, above the
   * narrowband audio's 4 kHz, and falls to nothing at 0 Hz.
   */
  #addHighBandNoise(pcm: Int16Array): void {
    let state = this.#noiseState;
    let previous = this.#noisePrevious;
    for (let i = 0; i < pcm.length; i += 1) {
      // xorshift32: cheap, deterministic noise.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const white = (state | 0) / 2 ** 31;
      // Low-passed (sum of neighbours), then moved to the top of the band by (-1)^n.
      const low = (white + previous) / 2;
      previous = white;
      const v = pcm[i]! + (i & 1 ? -1 : 1) * low * NOISE_AMPLITUDE;
      pcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
    }
    this.#noiseState = state;
    this.#noisePrevious = previous;
  }
}

/** Peak of the added noise (about -42 dBFS RMS toward 8 kHz at 16 kHz). */
const NOISE_AMPLITUDE = 640;
