import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '@parley/testkit';
import { Resampler } from './resampler.js';
import { beep, musicOnHold, tone, wavFile, type PcmSource } from './sources.js';
import { levelAt } from './test-leg.js';

async function collect(source: PcmSource, maxSamples = Infinity): Promise<Int16Array> {
  const parts: Int16Array[] = [];
  let n = 0;
  for await (const chunk of source.chunks()) {
    parts.push(chunk);
    n += chunk.length;
    if (n >= maxSamples) break;
  }
  const out = new Int16Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('wavFile', () => {
  // sox writes each: 600 Hz for 0.5 s at half scale, in the format named.
  it.each([
    ['16-bit 8 kHz mono', ['-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer']],
    ['24-bit 44.1 kHz stereo', ['-r', '44100', '-c', '2', '-b', '24', '-e', 'signed-integer']],
    ['32-bit float 22.05 kHz', ['-r', '22050', '-c', '1', '-b', '32', '-e', 'floating-point']],
    ['8-bit unsigned 11.025 kHz', ['-r', '11025', '-c', '1', '-b', '8', '-e', 'unsigned-integer']],
    ['µ-law 8 kHz', ['-r', '8000', '-c', '1', '-e', 'u-law']],
    ['A-law 8 kHz', ['-r', '8000', '-c', '1', '-e', 'a-law']],
    [
      '32-bit 48 kHz 4 channels (extensible)',
      ['-r', '48000', '-c', '4', '-b', '32', '-e', 'signed-integer'],
    ],
  ])('reads %s', async (_, format) => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-wav-'));
    const path = join(dir, 'tone.wav');
    await runCommand('sox', ['-n', ...format, path, 'synth', '0.5', 'sine', '600', 'vol', '0.5']);
    const source = await wavFile(path);
    const pcm = await collect(source);
    expect(Math.abs(pcm.length - source.sampleRate * 0.5)).toBeLessThanOrEqual(1);
    const at8k = new Resampler(source.sampleRate, 8000).process(pcm);
    expect(levelAt(at8k.subarray(200), 8000, 600)).toBeGreaterThan(14000);
  });
});

describe('generated sources', () => {
  it('makes a tone, a beep that starts and ends softly, and music on hold in the telephone band', async () => {
    const sine = await collect(tone({ frequencyHz: 440, durationMs: 300 }));
    expect(sine.length).toBe(2400);
    expect(levelAt(sine, 8000, 440)).toBeGreaterThan(15000);
    const b = await collect(beep());
    expect(b.length).toBe(3200);
    expect(Math.abs(b[0]!)).toBeLessThan(100);
    expect(Math.abs(b.at(-1)!)).toBeLessThan(100);
    expect(levelAt(b, 8000, 1000)).toBeGreaterThan(12000);
    const music = await collect(musicOnHold(), 8000 * 7);
    expect(music.length).toBeGreaterThanOrEqual(8000 * 7);
    expect(levelAt(music, 8000, 220)).toBeGreaterThan(100);
    expect(levelAt(music, 8000, 3500)).toBeLessThan(50);
  });
});
