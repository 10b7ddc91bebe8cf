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
 * (it recognises nothing). Comfort noise at about -45 dBFS in the empty band,
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
  #noiseResampler: Resampler | undefined;
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
   * Noise in the band the codec could not carry: white noise made at the
   * codec's rate, band-limited by the same resampler as the audio (0 to just
   * under 4 kHz for G.711), then moved to the top of the feed's band by
   * (-1)^n (4.2 to 8 kHz at 16 kHz): nothing of it lands on the speech.
   */
  #addHighBandNoise(pcm: Int16Array): void {
    const resampler = (this.#noiseResampler ??= new Resampler(
      this.#deps.codec.sampleRate,
      this.sampleRate,
    ));
    const white = new Int16Array(this.#deps.codec.frameSamples);
    let state = this.#noiseState;
    for (let i = 0; i < white.length; i += 1) {
      // xorshift32: cheap, repeatable noise.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      white[i] = Math.round(((state | 0) / 2 ** 31) * NOISE_AMPLITUDE);
    }
    this.#noiseState = state;
    const band = resampler.process(white);
    const n = Math.min(band.length, pcm.length);
    for (let i = 0; i < n; i += 1) {
      const v = pcm[i]! + (i & 1 ? -band[i]! : band[i]!);
      pcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
  }
}

/**
 * Peak of the noise before band-limiting (about -45 dBFS RMS in 4-8 kHz).
 * Measured on a flite prompt through µ-law: 0 → "one"; 200 → 6 of 7 words;
 * 300 → 7 of 7 (two noise seeds); 450 → 6-7; 650 and above → worse.
 */
const NOISE_AMPLITUDE = 300;
