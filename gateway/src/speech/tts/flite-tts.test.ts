/**
 * flite text to speech with its disk cache, on the real flite and sox; what
 * it says is checked by pocketsphinx (the testkit's `transcribe`). Runs of
 * flite are counted through a wrapper script that logs each one.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyse, transcribe } from '@parley/testkit';
import { isParleyError } from '@parley/shared/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createLogger, Metrics } from '../../observability/index.js';
import { readWav } from '../pcm.js';
import { FLITE_VOICES, FliteTextToSpeech, type FliteOptions } from './flite-tts.js';

let dir: string;
let runs: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-tts-'));
  runs = join(dir, 'flite-runs.log');
});
const made: FliteTextToSpeech[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((tts) => tts.close()));
  await rm(dir, { recursive: true, force: true });
});

/** A flite that logs each run, optionally sleeping first. */
function fliteWrapper(sleepSeconds = 0): string {
  const path = join(dir, `flite-${sleepSeconds}.sh`);
  writeFileSync(
    path,
    `#!/bin/sh\necho run >> '${runs}'\n${sleepSeconds ? `sleep ${sleepSeconds}\n` : ''}exec flite "$@"\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

const fliteRuns = (): number =>
  existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean).length : 0;

function tts(options: Partial<FliteOptions> = {}): FliteTextToSpeech {
  const t = new FliteTextToSpeech({
    cacheDir: join(dir, 'cache'),
    voices: FLITE_VOICES,
    defaultVoice: 'slt',
    maxConcurrent: 2,
    timeoutMs: 20_000,
    maxTextLength: 200,
    cacheMaxBytes: 64 * 1024 * 1024,
    logger: createLogger('silent'),
    flite: fliteWrapper(),
    ...options,
  });
  made.push(t);
  return t;
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; detail?: string }> {
  try {
    await promise;
  } catch (error) {
    if (isParleyError(error)) return { code: error.code, detail: error.detail };
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('FliteTextToSpeech', () => {
  it('speaks the text into a WAV at the rate asked for, then serves it from the cache', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const t = tts({ metrics });
    const first = await t.synthesize('please call me back tomorrow morning', { sampleRate: 16000 });
    expect(first.cached).toBe(false);
    expect(first.format).toEqual({ encoding: 'pcm_s16le', sampleRate: 16000, channels: 1 });
    const wav = await readWav(first.path);
    expect(wav.format.sampleRate).toBe(16000);
    expect(wav.dataOffset).toBe(first.dataOffset);
    expect(first.durationMs).toBe(Math.round((wav.samples.length / 16000) * 1000));
    expect(first.durationMs).toBeGreaterThan(500);
    expect(await transcribe(first.path)).toMatch(/call me back tomorrow morning/);

    const again = await t.synthesize('  please   call me back\n tomorrow morning ', {
      sampleRate: 16000,
    });
    expect(again).toEqual({ ...first, cached: true });
    expect(fliteRuns()).toBe(1);
    const requests = await metrics.ttsRequests.get();
    expect(Object.fromEntries(requests.values.map((v) => [v.labels.result, v.value]))).toEqual({
      miss: 1,
      hit: 1,
    });
    expect(
      (await metrics.ttsSynthesisSeconds.get()).values.find((v) => v.metricName?.endsWith('_count'))
        ?.value,
    ).toBe(1);
  });

  it('keys the cache by voice and rate: each is its own file', async () => {
    const t = tts();
    const narrow = await t.synthesize('thank you for calling');
    expect(narrow.format.sampleRate).toBe(8000);
    expect((await analyse(narrow.path)).seconds).toBeGreaterThan(0.5);
    const wide = await t.synthesize('thank you for calling', { sampleRate: 16000 });
    const awb = await t.synthesize('thank you for calling', { voice: 'awb' });
    expect(new Set([narrow.path, wide.path, awb.path]).size).toBe(3);
    expect(awb.voice).toBe('awb');
    expect(fliteRuns()).toBe(3);
    // A second instance on the same directory (a restart) finds the files.
    const restarted = tts();
    expect((await restarted.synthesize('thank you for calling')).cached).toBe(true);
    expect(fliteRuns()).toBe(3);
  });

  it('runs flite once for the same text asked for concurrently', async () => {
    const t = tts({ flite: fliteWrapper(0.3) });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => t.synthesize('your call is important to us')),
    );
    expect(fliteRuns()).toBe(1);
    expect(new Set(results.map((r) => r.path)).size).toBe(1);
    expect(results.filter((r) => !r.cached)).toHaveLength(1);
  });

  it('never shows a half-written file under the cache name, and leaves no temporary file', async () => {
    const t = tts({ flite: fliteWrapper(0.5) });
    const pending = t.synthesize('one moment please');
    // While flite runs, the only file is a temporary one.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(runs)) resolve(clearInterval(poll));
      }, 5);
    });
    const during = readdirSync(join(dir, 'cache'));
    expect(during.every((name) => name.startsWith('.tmp-'))).toBe(true);
    const audio = await pending;
    expect(readdirSync(join(dir, 'cache'))).toEqual([audio.path.split('/').at(-1)]);
  });

  it('refuses bad input with typed errors, before running flite', async () => {
    const t = tts();
    expect(await rejection(t.synthesize(''))).toMatchObject({ code: 'speech_text_invalid' });
    expect(await rejection(t.synthesize(' \n\t '))).toMatchObject({ code: 'speech_text_invalid' });
    expect(await rejection(t.synthesize('x'.repeat(201)))).toMatchObject({
      code: 'speech_text_invalid',
      detail: '201 characters, at most 200',
    });
    expect(await rejection(t.synthesize('hello', { voice: 'nobody' }))).toMatchObject({
      code: 'speech_voice_unknown',
    });
    expect(
      await rejection(t.synthesize('hello', { sampleRate: 44100 as unknown as 8000 })),
    ).toMatchObject({ code: 'speech_text_invalid' });
    expect(fliteRuns()).toBe(0);
    // Text that looks like options is spoken, not parsed.
    const dashes = await t.synthesize('-voice kal -o /etc/passwd');
    expect(dashes.voice).toBe('slt');
    expect(fliteRuns()).toBe(1);
  });

  it('kills a synthesis past its timeout: a typed error, nothing cached', async () => {
    const t = tts({ flite: fliteWrapper(5), timeoutMs: 300 });
    expect(await rejection(t.synthesize('this takes too long'))).toMatchObject({
      code: 'speech_synthesis_failed',
      detail: 'no result within 300 ms',
    });
    expect(readdirSync(join(dir, 'cache'))).toEqual([]);
  });

  it('reports a synthesiser that fails', async () => {
    const t = tts({ flite: '/bin/false' });
    expect(await rejection(t.synthesize('hello'))).toMatchObject({
      code: 'speech_synthesis_failed',
    });
    const missing = tts({ flite: join(dir, 'no-such-flite') });
    expect(await rejection(missing.synthesize('hello'))).toMatchObject({
      code: 'speech_synthesis_failed',
    });
  });

  it('bounds the flite processes running at once', async () => {
    // A flite that logs when it starts and when it ends.
    const path = join(dir, 'flite-bracketed.sh');
    writeFileSync(
      path,
      `#!/bin/sh\necho start >> '${runs}'\nsleep 0.2\nflite "$@"\nstatus=$?\necho end >> '${runs}'\nexit $status\n`,
    );
    chmodSync(path, 0o755);
    const t = tts({ flite: path, maxConcurrent: 2 });
    await Promise.all(['one', 'two', 'three', 'four', 'five'].map((text) => t.synthesize(text)));
    let running = 0;
    let most = 0;
    for (const line of readFileSync(runs, 'utf8').split('\n').filter(Boolean)) {
      running += line === 'start' ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(running).toBe(0);
    expect(most).toBe(2);
  });

  it('lets a caller give up by its signal without failing another caller of the same text', async () => {
    const t = tts({ flite: fliteWrapper(0.3) });
    const controller = new AbortController();
    const leaving = t.synthesize('goodbye for now', { signal: controller.signal });
    const staying = t.synthesize('goodbye for now');
    controller.abort();
    expect(await rejection(leaving)).toMatchObject({ code: 'speech_synthesis_failed' });
    expect((await staying).durationMs).toBeGreaterThan(0);
  });
});
