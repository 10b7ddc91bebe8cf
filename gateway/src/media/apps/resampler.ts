/**
 * A streaming polyphase resampler for mono 16-bit PCM at any rational ratio
 * (8 ↔ 16 kHz for recognisers, 11.025/22.05/44.1/48 kHz prompts to a leg's
 * 8 or 48 kHz): a Kaiser-windowed sinc low-pass at the lower Nyquist rate,
 * evaluated only at the output instants.
 *
 * Hand-written because the maintained package measured (libsamplerate-js
 * 2.1.2, WebAssembly) costs 1.5 MB and 24 ms to create per stream (200
 * streams: 313 MB) and 127 µs per 20 ms frame for 8 → 16 kHz: a per-call
 * resampler must cost nothing to create. This one shares its filter tables
 * between streams; its per-frame cost is in docs/benchmarks.md (about 5-10x a
 * µ-law encode of the same frame).
 */

/** Zero crossings of the sinc on each side, in periods of the lower rate: the filter's length. */
const ZEROS = 8;
/** Kaiser β: about 70 dB stop-band attenuation. */
const BETA = 7;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The modified Bessel function of the first kind, order 0 (for the Kaiser window). */
function bessel0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 30; k += 1) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

/** Filters are the same for every stream at the same ratio: made once, shared. */
const designs = new Map<string, { taps: number; table: Float64Array }>();

function design(up: number, down: number): { taps: number; table: Float64Array } {
  const key = `${up}/${down}`;
  const cached = designs.get(key);
  if (cached) return cached;
  // Cut-off relative to the input rate: the lower of the two Nyquist rates, a little inside it.
  const cutoff = 0.95 * Math.min(1, up / down);
  const taps = 2 * Math.ceil(ZEROS / cutoff);
  // table[phase * taps + j]: the weight of buffer sample (index + j) for an output at
  // buffer position index + taps/2 - 1 + phase/up (a constant delay of taps/2 - 1 samples).
  const table = new Float64Array(up * taps);
  const i0 = bessel0(BETA);
  const half = taps / 2;
  for (let phase = 0; phase < up; phase += 1) {
    const frac = phase / up;
    for (let j = 0; j < taps; j += 1) {
      const t = j - (half - 1) - frac;
      const x = t * cutoff;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w = Math.abs(t) >= half ? 0 : bessel0(BETA * Math.sqrt(1 - (t / half) ** 2)) / i0;
      table[phase * taps + j] = cutoff * sinc * w;
    }
  }
  const made = { taps, table };
  designs.set(key, made);
  return made;
}

export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  readonly #up: number;
  readonly #down: number;
  readonly #taps: number;
  readonly #table: Float64Array;
  /** The last `taps` input samples, then the new block. */
  #history: Float64Array;
  /** Position of the next output in input samples × up, relative to the start of the new block. */
  #position = 0;

  constructor(inRate: number, outRate: number) {
    if (!(inRate > 0 && outRate > 0 && Number.isInteger(inRate) && Number.isInteger(outRate))) {
      throw new RangeError(`bad sample rates ${inRate} → ${outRate}`);
    }
    const g = gcd(inRate, outRate);
    this.inRate = inRate;
    this.outRate = outRate;
    this.#up = outRate / g;
    this.#down = inRate / g;
    const { taps, table } = design(this.#up, this.#down);
    this.#taps = taps;
    this.#table = table;
    this.#history = new Float64Array(taps);
  }

  /** Resamples the next block of the stream (state carries over between blocks). */
  process(input: Int16Array): Int16Array {
    if (this.#up === this.#down) return input.slice();
    const taps = this.#taps;
    const up = this.#up;
    const down = this.#down;
    const table = this.#table;
    // Work buffer: the filter's history, then the block.
    const buffer = new Float64Array(taps + input.length);
    buffer.set(this.#history, 0);
    for (let i = 0; i < input.length; i += 1) buffer[taps + i] = input[i]!;
    // Output n uses input samples up to index (taps - 1 + floor(position / up)) of the buffer.
    const available = input.length * up;
    const count = Math.max(0, Math.ceil((available - this.#position) / down));
    const out = new Int16Array(count);
    // Integer index and phase, stepped without a division per output.
    let index = Math.floor(this.#position / up);
    let phase = this.#position - index * up;
    const step = Math.floor(down / up);
    const stepPhase = down - step * up;
    for (let n = 0; n < count; n += 1) {
      const base = phase * taps;
      let acc = 0;
      for (let j = 0; j < taps; j += 1) acc += buffer[index + j]! * table[base + j]!;
      out[n] = acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc);
      index += step;
      phase += stepPhase;
      if (phase >= up) {
        phase -= up;
        index += 1;
      }
    }
    const position = this.#position + count * down;
    this.#position = position - available;
    this.#history = buffer.slice(buffer.length - taps);
    return out;
  }
}
