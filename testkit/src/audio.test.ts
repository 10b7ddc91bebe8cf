import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  analyse,
  isSilent,
  loopAudio,
  makeTone,
  parseSoxStat,
  speak,
  transcribe,
  wordsFound,
} from './audio.js';
import { runCommand } from './process.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-audio-test-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('audio', () => {
  it('makes tones and reads their level and frequency back', async () => {
    const stereo = await makeTone({
      path: join(dir, 'a.wav'),
      freqHz: 700,
      seconds: 1,
      rate: 48000,
      channels: 2,
      volume: 0.3,
    });
    const a = await analyse(stereo);
    expect(a.seconds).toBeCloseTo(1, 2);
    expect(a.rms).toBeCloseTo(0.3 / Math.SQRT2, 2);
    expect(a.maxAmplitude).toBeCloseTo(0.3, 2);
    expect(Math.abs(a.roughFrequencyHz - 700)).toBeLessThan(10);

    const silence = join(dir, 'silence.wav');
    await runCommand('sox', [
      '-n',
      '-r',
      '8000',
      '-c',
      '1',
      '-b',
      '16',
      silence,
      'trim',
      '0',
      '0.5',
    ]);
    expect(await isSilent(silence)).toBe(true);
    expect((await analyse(silence)).roughFrequencyHz).toBe(0);
    expect(await isSilent(stereo)).toBe(false);
  });

  it('loops a prompt to length at the agent rate', async () => {
    const beep = await makeTone({ path: join(dir, 'beep.wav'), seconds: 0.4, rate: 16000 });
    const looped = await loopAudio({
      input: beep,
      path: join(dir, 'loop.wav'),
      seconds: 3,
      gapSeconds: 0.1,
      rate: 8000,
      channels: 1,
    });
    const a = await analyse(looped);
    expect(a.seconds).toBeCloseTo(3, 2);
    expect(a.samples).toBe(24000);
  });

  it('speaks with flite and transcribes with pocketsphinx', async () => {
    const said = await speak({
      text: 'please call me back tomorrow morning',
      path: join(dir, 'say.wav'),
      rate: 48000,
    });
    expect(await transcribe(said)).toBe('please call me back tomorrow morning');
  });

  it('parses sox stat output', () => {
    const stat = (max: number, rms: number, freq: number): string =>
      `Samples read:  8000\nLength (seconds):  1.000000\nMaximum amplitude:  ${max}\nMinimum amplitude: -0.6\nRMS     amplitude:  ${rms}\nRough   frequency:  ${freq}\n`;
    expect(parseSoxStat(stat(0.5, 0.35, 450))).toEqual({
      rms: 0.35,
      maxAmplitude: 0.6,
      roughFrequencyHz: 450,
      seconds: 1,
      samples: 8000,
    });
    expect(parseSoxStat(stat(0, 0, -2147483648)).roughFrequencyHz).toBe(0);
  });
});

describe('wordsFound', () => {
  it('counts the expected words found in order', () => {
    expect(wordsFound('please leave your message', 'please leave your message')).toBe(4);
    expect(
      wordsFound(
        'please leave your message after the tone',
        'leave lane here message after the tone',
      ),
    ).toBe(5);
    expect(wordsFound('a b c', 'c b a')).toBe(1);
    expect(wordsFound('a b c', '')).toBe(0);
  });
});
