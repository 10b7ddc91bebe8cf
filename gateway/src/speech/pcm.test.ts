import { describe, expect, it } from 'vitest';

import { frames, parseWav, parseWavHeader, WavFormatError } from './pcm.js';

/** A WAV with optional extra chunks before `data`. */
function wav(
  samples: number[],
  options: { rate?: number; channels?: number; bits?: number; extra?: Buffer } = {},
): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(s, i * 2));
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(options.channels ?? 1, 10);
  fmt.writeUInt32LE(options.rate ?? 8000, 12);
  fmt.writeUInt32LE((options.rate ?? 8000) * 2, 16);
  fmt.writeUInt16LE(2, 20);
  fmt.writeUInt16LE(options.bits ?? 16, 22);
  const dataHeader = Buffer.alloc(8);
  dataHeader.write('data', 0, 'ascii');
  dataHeader.writeUInt32LE(data.length, 4);
  const body = Buffer.concat([
    Buffer.from('WAVE'),
    fmt,
    options.extra ?? Buffer.alloc(0),
    dataHeader,
    data,
  ]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

describe('WAV and PCM', () => {
  it('reads mono 16-bit PCM, skipping chunks it does not need', () => {
    const list = Buffer.alloc(8 + 5 + 1);
    list.write('LIST', 0, 'ascii');
    list.writeUInt32LE(5, 4); // odd size: padded to even
    const parsed = parseWav(wav([1, -2, 32767, -32768], { rate: 16000, extra: list }));
    expect(parsed.format).toEqual({ encoding: 'pcm_s16le', sampleRate: 16000, channels: 1 });
    expect([...parsed.samples]).toEqual([1, -2, 32767, -32768]);
    expect(parsed.dataOffset).toBe(44 + list.length);
    expect(parseWavHeader(wav([1, 2])).dataBytes).toBe(4);
  });

  it('reads what a file cut short holds', () => {
    const full = wav([5, 6, 7]);
    expect([...parseWav(full.subarray(0, full.length - 3)).samples]).toEqual([5]);
  });

  it('refuses what is not mono 16-bit PCM WAV', () => {
    expect(() => parseWav(Buffer.from('not a wav file at all'))).toThrow(WavFormatError);
    expect(() => parseWav(wav([1], { channels: 2 }))).toThrow(/mono 16-bit/);
    expect(() => parseWav(wav([1], { bits: 8 }))).toThrow(/mono 16-bit/);
    expect(() => parseWav(wav([]).subarray(0, 36))).toThrow(/no data chunk/);
  });

  it('splits PCM into 20 ms frames', () => {
    const sizes = [...frames(new Int16Array(16000 + 100), 16000)].map((f) => f.length);
    expect(sizes.length).toBe(51);
    expect(sizes[0]).toBe(320);
    expect(sizes.at(-1)).toBe(100);
  });
});
