import { describe, expect, it } from 'vitest';
import { pcmCodecFor } from './codec.js';
import { levelAt } from './test-leg.js';

const sine = (rate: number, freq: number, n: number, offset = 0) =>
  Int16Array.from({ length: n }, (_, i) =>
    Math.round(10000 * Math.sin((2 * Math.PI * freq * (offset + i)) / rate)),
  );

describe('pcmCodecFor', () => {
  it.each(['PCMU', 'PCMA'])(
    '%s: a 20 ms frame is 160 bytes and decodes to the same tone',
    (name) => {
      const codec = pcmCodecFor({ name, clockRate: 8000, channels: 1, payloadType: 0 })!;
      const frame = sine(8000, 1000, 160);
      const payload = codec.encode(frame);
      expect(payload.length).toBe(160);
      const back = codec.decode(payload);
      expect(levelAt(back, 8000, 1000)).toBeGreaterThan(9500);
    },
  );

  it('Opus (opusscript): 48 kHz frames round-trip a tone; junk decodes to one frame of silence', () => {
    const codec = pcmCodecFor({ name: 'opus', clockRate: 48000, channels: 2, payloadType: 111 })!;
    expect(codec.frameSamples).toBe(960);
    const decoded: Int16Array[] = [];
    for (let n = 0; n < 10; n += 1) {
      const payload = codec.encode(sine(48000, 1000, 960, n * 960));
      expect(payload.length).toBeLessThan(400);
      decoded.push(codec.decode(payload));
    }
    // The codec's look-ahead delays the start: measure the later frames.
    const tail = Int16Array.from(decoded.slice(4).flatMap((f) => [...f]));
    expect(levelAt(tail, 48000, 1000)).toBeGreaterThan(7000);
    expect(codec.decode(Buffer.from([0xff, 0xff, 0xff]))).toHaveLength(960);
    codec.close();
    codec.close();
  });

  it('refuses codecs it cannot speak', () => {
    expect(
      pcmCodecFor({ name: 'G722', clockRate: 8000, channels: 1, payloadType: 9 }),
    ).toBeUndefined();
    expect(
      pcmCodecFor({ name: 'PCMU', clockRate: 16000, channels: 1, payloadType: 0 }),
    ).toBeUndefined();
  });
});
