/**
 * The pocketsphinx engine on real audio: sentences spoken by flite (slt,
 * 16 kHz), written in 20 ms frames at the pace of real time into the real
 * recogniser (Debian's libpocketsphinx3 in host processes).
 */
import { afterEach, describe, expect, it } from 'vitest';

import { spoken, speakInto } from '../../../test/speech-audio.js';
import { createLogger, Metrics } from '../../observability/index.js';
import type {
  FinalResult,
  PartialResult,
  TranscriberError,
  TranscriberStream,
} from '../transcriber.js';
import { PocketsphinxTranscriber, type PocketsphinxOptions } from './pocketsphinx-transcriber.js';

const MODEL = '/usr/share/pocketsphinx/model/en-us';

function transcriber(options: Partial<PocketsphinxOptions> = {}): PocketsphinxTranscriber {
  const t = new PocketsphinxTranscriber({
    hmm: `${MODEL}/en-us`,
    dict: `${MODEL}/cmudict-en-us.dict`,
    lm: `${MODEL}/en-us.lm.bin`,
    processes: 2,
    maxStreams: 8,
    idleDecoders: 1,
    partialIntervalMs: 100,
    endSilenceMs: 500,
    maxUtteranceSeconds: 30,
    secondPass: true,
    // Generous: these tests are about what is recognised, not how fast. A fresh full run
    // with five other test runs on 2 cores took over 30 s to end one stream (fresh47).
    startTimeoutMs: 80_000,
    endTimeoutMs: 80_000,
    logger: createLogger('silent'),
    ...options,
  });
  open.push(t);
  return t;
}
const open: PocketsphinxTranscriber[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

interface Recorded {
  partials: PartialResult[];
  finals: FinalResult[];
  errors: TranscriberError[];
  closes: number;
  closed: Promise<void>;
}

/** Every event of a stream. */
function record(stream: TranscriberStream): Recorded {
  const recorded: Recorded = {
    partials: [],
    finals: [],
    errors: [],
    closes: 0,
    closed: new Promise((resolve) => stream.once('close', () => resolve())),
  };
  stream.on('partial', (result) => recorded.partials.push(result));
  stream.on('final', (result) => recorded.finals.push(result));
  stream.on('error', (error) => recorded.errors.push(error));
  stream.on('close', () => (recorded.closes += 1));
  return recorded;
}

const words = (finals: readonly FinalResult[]): string =>
  finals
    .map((f) => f.text)
    .join(' ')
    .trim();

// Real time audio on a shared machine: generous limits (no timing is asserted).
describe('PocketsphinxTranscriber', { timeout: 90_000 }, () => {
  it('gives partial results while the audio arrives and a final with the words', async () => {
    const t = transcriber();
    const audio = await spoken('please call me back tomorrow morning');
    const stream = t.open({ id: 'leg-1' });
    expect(stream.sampleRate).toBe(16000);
    const events = record(stream);
    const mid = await speakInto(stream, audio);
    stream.end();
    await events.closed;

    expect(events.errors).toEqual([]);
    expect(events.closes).toBe(1);
    // A partial came while only part of the sentence was written, made from that part.
    expect(mid.partial?.text).toMatch(/\w/);
    expect(mid.writtenMs).toBeLessThan(audio.speechEndMs);
    expect(mid.partial?.audioMs).toBeLessThanOrEqual(mid.writtenMs);
    expect(events.finals).toHaveLength(1);
    const [final] = events.finals;
    expect(final?.text).toMatch(/please/);
    expect(final?.text).toMatch(/back tomorrow/);
    expect(final?.text).toMatch(/morning/);
    expect(final?.utterance).toBe(0);
    // Times are in the stream: the words lie within the spoken sentence.
    expect(final?.startMs).toBeGreaterThanOrEqual(audio.speechStartMs - 100);
    expect(final?.endMs).toBeLessThanOrEqual(audio.speechEndMs + 100);
    expect(final?.words.map((w) => w.word).join(' ')).toBe(final?.text);
    expect(final?.confidence).toBeGreaterThan(0);
    expect(final?.confidence).toBeLessThanOrEqual(1);
    // Every partial of the utterance carries its number.
    expect(events.partials.every((p) => p.utterance === 0)).toBe(true);
    expect(t.streamCount).toBe(0);
  });

  it('cuts utterances at pauses: one final each, numbered, with times in the stream', async () => {
    const t = transcriber();
    const first = await spoken('my account number is four five six seven', { trailMs: 1200 });
    const second = await spoken('this is john calling about my order', { leadMs: 0 });
    const samples = new Int16Array(first.samples.length + second.samples.length);
    samples.set(first.samples);
    samples.set(second.samples, first.samples.length);
    const stream = t.open();
    const events = record(stream);
    // Faster than real time: results must not depend on the pace.
    for (let i = 0; i < samples.length; i += 3200) stream.write(samples.subarray(i, i + 3200));
    stream.end();
    await events.closed;

    expect(events.errors).toEqual([]);
    expect(events.finals.map((f) => f.utterance)).toEqual([0, 1]);
    expect(events.finals[0]?.text).toMatch(/account number/);
    expect(events.finals[0]?.text).toMatch(/four five six seven/);
    expect(events.finals[1]?.text).toMatch(/calling about my order/);
    const secondStartMs = (first.samples.length * 1000) / 16000;
    expect(events.finals[1]?.startMs).toBeGreaterThan(secondStartMs - 100);
  });

  it('flushes the last utterance on end() even with no silence after it', async () => {
    const t = transcriber();
    const audio = await spoken('good morning', { trailMs: 0 });
    const stream = t.open();
    const events = record(stream);
    stream.write(audio.samples);
    stream.end();
    expect(stream.state).toBe('ending');
    expect(stream.write(new Int16Array(320))).toBe(false);
    await events.closed;
    expect(words(events.finals)).toMatch(/morning/);
    expect(events.closes).toBe(1);
  });

  it('runs concurrent streams, each with its own words', async () => {
    const t = transcriber();
    const sentences = [
      'please call me back tomorrow morning',
      'my account number is four five six seven',
      'i would like to speak to someone about billing',
    ];
    const results = await Promise.all(
      sentences.map(async (text) => {
        const audio = await spoken(text);
        const stream = t.open();
        const events = record(stream);
        const mid = await speakInto(stream, audio);
        stream.end();
        await events.closed;
        return { ...events, mid, speechEndMs: audio.speechEndMs };
      }),
    );
    expect(t.processIds.length).toBe(2);
    for (const events of results) expect(events.errors).toEqual([]);
    expect(words(results[0]!.finals)).toMatch(/call me back tomorrow/);
    expect(words(results[1]!.finals)).toMatch(/account number/);
    expect(words(results[2]!.finals)).toMatch(/speak to someone/);
    for (const events of results) {
      expect(events.mid.partial?.text).toMatch(/\w/);
      expect(events.mid.writtenMs).toBeLessThan(events.speechEndMs);
    }
  });

  it('ends each stream of a killed host with one error, and serves the next stream', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const t = transcriber({ processes: 1, metrics });
    const audio = await spoken('please call me back tomorrow morning');
    const streams = [t.open(), t.open()];
    const events = streams.map((s) => record(s));
    for (const s of streams) s.write(audio.samples.subarray(0, 16000));
    // Killed once it runs (its first partial shows it does).
    await new Promise<void>((resolve) => streams[0]!.once('partial', () => resolve()));
    const [pid] = t.processIds;
    process.kill(pid!, 'SIGKILL');
    await Promise.all(events.map((e) => e.closed));
    for (const e of events) {
      expect(e.errors).toHaveLength(1);
      expect(e.errors[0]?.code).toBe('transcriber_failed');
      expect(e.errors[0]?.detail).toMatch(/SIGKILL/);
      expect(e.closes).toBe(1);
    }
    // Writes after the failure are refused, close() is harmless.
    expect(streams[0]!.write(audio.samples)).toBe(false);
    streams[0]!.close();
    expect((await metrics.speechEngineErrors.get()).values).toEqual([
      expect.objectContaining({
        value: 2,
        labels: { engine: 'pocketsphinx', code: 'transcriber_failed' },
      }),
    ]);

    const again = t.open();
    const next = record(again);
    again.write(audio.samples);
    again.end();
    await next.closed;
    expect(next.errors).toEqual([]);
    expect(words(next.finals)).toMatch(/call me back/);
    expect(t.processIds).not.toContain(pid);
  });

  it('refuses streams past maxStreams with transcriber_busy, and a closed transcriber with transcriber_unavailable', async () => {
    const t = transcriber({ maxStreams: 1 });
    const first = t.open();
    const refused = t.open();
    const events = record(refused);
    await events.closed;
    expect(events.errors.map((e) => e.code)).toEqual(['transcriber_busy']);
    first.close();
    await t.close();
    const late = record(t.open());
    await late.closed;
    expect(late.errors.map((e) => e.code)).toEqual(['transcriber_unavailable']);
  });

  it('reports a host that cannot load its model as transcriber_unavailable', async () => {
    const t = transcriber({ hmm: '/nonexistent/model' });
    const events = record(t.open());
    await events.closed;
    expect(events.errors).toHaveLength(1);
    expect(events.errors[0]?.code).toBe('transcriber_unavailable');
    expect(events.errors[0]?.detail).toMatch(/model/);
  });

  it('closes safely twice, streams first, and leaves no process behind', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const t = transcriber({ metrics });
    const stream = t.open();
    const events = record(stream);
    stream.write(new Int16Array(16000));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (t.processIds.length > 0) resolve(clearInterval(poll));
      }, 10);
    });
    const pids = t.processIds;
    stream.close();
    stream.close();
    await Promise.all([t.close(), t.close()]);
    expect(events.closes).toBe(1);
    expect(events.errors).toEqual([]);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    expect((await metrics.speechStreams.get()).values[0]?.value ?? 0).toBe(0);
  });
});
