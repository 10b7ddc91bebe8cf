/**
 * Checks on raw audio in memory, for tests that receive RTP themselves (no sox
 * round trip): G.711 μ-law decoding and the share of a signal's power at one
 * frequency (Goertzel), so a test can say "the 1 kHz tone arrived" rather than
 * "some bytes arrived".
 */

/** ITU-T G.711 μ-law byte → 16-bit linear sample (the standard decoder: a table would be the same). */
export function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return sign ? -magnitude : magnitude;
}

export function decodeUlaw(payload: Uint8Array): Int16Array {
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i += 1) out[i] = ulawToLinear(payload[i]!);
  return out;
}

/** Root mean square of 16-bit samples, 0..1 of full scale. */
export function rms(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i += 1) sum += (samples[i]! / 32768) ** 2;
  return Math.sqrt(sum / samples.length);
}

/**
 * The fraction (0..1) of the samples' power that lies at `frequency` (Goertzel
 * filter over the whole block; ±a few Hz of leakage for a block of ≥ 0.1 s).
 * A clean tone scores near 1, silence and noise near 0.
 */
export function toneShare(
  samples: ArrayLike<number>,
  sampleRate: number,
  frequency: number,
): number {
  const n = samples.length;
  if (n === 0) return 0;
  const k = Math.round((n * frequency) / sampleRate);
  const omega = (2 * Math.PI * k) / n;
  const coeff = 2 * Math.cos(omega);
  let s1 = 0;
  let s2 = 0;
  let total = 0;
  for (let i = 0; i < n; i += 1) {
    const x = samples[i]!;
    total += x * x;
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  if (total === 0) return 0;
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  // A sinusoid of amplitude A over n samples: Goertzel power (A·n/2)², total power A²·n/2.
  return Math.min(1, (2 * power) / (n * total));
}
