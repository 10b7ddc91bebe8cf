import { describe, expect, it } from 'vitest';
import { Resampler } from './resampler.js';

function sine(rate: number, freq: number, samples: number, amplitude = 10000): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) =>
    Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate)),
  );
}

/** Amplitude of `freq` in `pcm` (a single-bin DFT), skipping the filter's start-up. */
function level(pcm: Int16Array, rate: number, freq: number, skip = 200): number {
  let re = 0;
  let im = 0;
  const n = pcm.length - skip;
  for (let i = skip; i < pcm.length; i += 1) {
    re += pcm[i]! * Math.cos((2 * Math.PI * freq * i) / rate);
    im += pcm[i]! * Math.sin((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / n;
}

function run(resampler: Resampler, input: Int16Array, block: number): Int16Array {
  const parts: Int16Array[] = [];
  for (let i = 0; i < input.length; i += block)
    parts.push(resampler.process(input.subarray(i, i + block)));
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('Resampler', () => {
  it.each([
    [8000, 16000, 160, 1000],
    [16000, 8000, 320, 1000],
    [48000, 8000, 960, 700],
    [44100, 8000, 441, 1000],
    [8000, 48000, 160, 440],
    [22050, 16000, 441, 3000],
  ])(
    '%i → %i Hz keeps a tone at its frequency and level, block by block',
    (from, to, block, freq) => {
      const input = sine(from, freq, from * 1);
      const out = run(new Resampler(from, to), input, block);
      expect(Math.abs(out.length - to)).toBeLessThanOrEqual(1);
      expect(level(out, to, freq)).toBeGreaterThan(9000);
      expect(level(out, to, freq)).toBeLessThan(10500);
    },
  );

  it('removes what the lower rate cannot carry (no aliasing)', () => {
    // 6 kHz at 16 kHz would fold to 2 kHz at 8 kHz.
    const out = run(new Resampler(16000, 8000), sine(16000, 6000, 16000), 320);
    expect(level(out, 8000, 2000)).toBeLessThan(30);
  });

  it('gives the same output whatever the block sizes', () => {
    const input = sine(8000, 1000, 8000);
    const a = run(new Resampler(8000, 16000), input, 160);
    const b = run(new Resampler(8000, 16000), input, 37);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });
});
