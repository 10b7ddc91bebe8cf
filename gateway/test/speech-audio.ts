/**
 * Speech fixtures for tests and benchmarks: sentences spoken by flite (the
 * testkit's `speak`, cached per machine), as 16 kHz PCM with silence around
 * them, and a feeder that writes PCM into a transcription stream in 20 ms
 * frames at the pace of real time, as RTP would bring it.
 */
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { rename } from 'node:fs/promises';
import { audioCacheDir, runCommand, speak } from '@parley/testkit';

import { frames, readWav } from '../src/speech/pcm.js';
import type { PartialResult, TranscriberStream } from '../src/speech/transcriber.js';

export interface SpokenOptions {
  readonly voice?: string;
  /** Rate of the returned PCM; 8000 goes through telephone band first (sox) then back up. */
  readonly rate?: 8000 | 16000;
  /** Silence before and after, ms. */
  readonly leadMs?: number;
  readonly trailMs?: number;
}

export interface Spoken {
  readonly text: string;
  /** 16 kHz mono PCM: lead silence, the sentence, trail silence. */
  readonly samples: Int16Array;
  readonly sampleRate: number;
  /** Where the sentence starts and ends in `samples`, ms. */
  readonly speechStartMs: number;
  readonly speechEndMs: number;
}

/** `text` spoken by flite (slt by default) as 16 kHz PCM, with silence around it. */
export async function spoken(text: string, options: SpokenOptions = {}): Promise<Spoken> {
  const voice = options.voice ?? 'slt';
  const rate = options.rate ?? 16000;
  const key = createHash('sha256').update(`${voice}|${rate}|${text}`).digest('hex').slice(0, 24);
  const path = join(audioCacheDir(), `speech-${key}.wav`);
  if (!existsSync(path)) {
    if (rate === 16000) {
      await speak({ text, path, rate: 16000, voice });
    } else {
      // Telephone band: down to 8 kHz (what G.711 carries), then back to the recogniser's 16 kHz.
      const narrow = join(audioCacheDir(), `speech-${key}-8k.wav`);
      await speak({ text, path: narrow, rate: 8000, voice });
      const tmp = `${path}.${process.pid}.tmp.wav`;
      await runCommand('sox', [narrow, '-r', '16000', '-b', '16', tmp]);
      await rename(tmp, path);
    }
  }
  const wav = await readWav(path);
  const sampleRate = wav.format.sampleRate;
  const leadMs = options.leadMs ?? 500;
  const lead = Math.round((leadMs * sampleRate) / 1000);
  const trail = Math.round(((options.trailMs ?? 1500) * sampleRate) / 1000);
  const samples = new Int16Array(lead + wav.samples.length + trail);
  samples.set(wav.samples, lead);
  return {
    text,
    samples,
    sampleRate,
    speechStartMs: leadMs,
    speechEndMs: ((lead + wav.samples.length) * 1000) / sampleRate,
  };
}

/**
 * Writes `samples` into `stream` in frames of `frameMs`, paced by the wall
 * clock from the first frame (a late timer catches up, as a jitter buffer
 * would). Resolves with the monotonic time each frame was written.
 */
export async function feedInRealTime(
  stream: TranscriberStream,
  samples: Int16Array,
  options: { frameMs?: number; onFrame?: (writtenMs: number, at: number) => void } = {},
): Promise<void> {
  const frameMs = options.frameMs ?? 20;
  const all = [...frames(samples, stream.sampleRate, frameMs)];
  const start = performance.now();
  let index = 0;
  while (index < all.length && stream.state === 'open') {
    const due = Math.floor((performance.now() - start) / frameMs) + 1;
    while (index < Math.min(due, all.length)) {
      const frame = all[index++];
      if (!frame) break;
      stream.write(frame);
      options.onFrame?.(stream.writtenMs, performance.now());
    }
    const next = start + index * frameMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  }
}

/**
 * Speaks `audio` into `stream` the way a caller does, and proves the partials
 * come while the audio arrives without timing anything: the first part of the
 * sentence (up to `firstMs` past its start) is written in real time, then
 * nothing more until a partial result comes (or came already); then the
 * rest. Resolves with that partial and how much audio had been written when
 * it came, both short of the sentence's end.
 */
export async function speakInto(
  stream: TranscriberStream,
  audio: Spoken,
  options: { firstMs?: number; onFrame?: (writtenMs: number, at: number) => void } = {},
): Promise<{ partial: PartialResult | undefined; writtenMs: number }> {
  let first: { partial: PartialResult; writtenMs: number } | undefined;
  const seen = new Promise<void>((resolve) => {
    stream.once('partial', (partial) => {
      first = { partial, writtenMs: stream.writtenMs };
      resolve();
    });
    stream.once('close', () => resolve());
  });
  const cut = Math.round(
    ((audio.speechStartMs + (options.firstMs ?? 1200)) * audio.sampleRate) / 1000,
  );
  const feedOptions = options.onFrame ? { onFrame: options.onFrame } : {};
  await feedInRealTime(stream, audio.samples.subarray(0, cut), feedOptions);
  await seen;
  const result = { partial: first?.partial, writtenMs: first?.writtenMs ?? stream.writtenMs };
  await feedInRealTime(stream, audio.samples.subarray(cut), feedOptions);
  return result;
}
