/**
 * Speech benchmark (issue 10 item 6): word error rate of the pocketsphinx
 * engine on flite-spoken sentences, the delay from a word spoken to its first
 * partial result (pocketsphinx, and the same recogniser behind the WebSocket
 * engine), live streams per decoder process (one core), the cost of decoding
 * on the caller's thread (why decoders run in child processes), and flite
 * text to speech cold and cached.
 *
 *   node --import tsx bench/src/speech.ts [--quick] [--streams 4,8,12,16] [--seconds 20]
 *     [--only tts,frames,wer,delay,live] [--nice -10] [--parallel 4]
 *
 * `--nice N` runs this process and the decoder processes at that priority
 * (root), to approximate cores of their own on a machine shared with other work.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

import { spoken } from '../../gateway/test/speech-audio.js';
import { createLogger } from '../../gateway/src/observability/index.js';
import type { PocketsphinxTranscriber } from '../../gateway/src/speech/index.js';
import {
  FLITE_VOICES,
  FliteTextToSpeech,
  startRecogniserServer,
  WebSocketTranscriber,
} from '../../gateway/src/speech/index.js';
import { loadPocketsphinx } from '../../gateway/src/speech/pocketsphinx/bindings.js';
import { StreamDecoder } from '../../gateway/src/speech/pocketsphinx/decoder.js';
import { percentile, summarize } from './latency-stats.js';
import { liveStreams, measureDelays, transcribeFast } from './speech/measure.js';
import { MODEL, pocketsphinx } from './speech/pocketsphinx.js';
import { SENTENCES } from './speech/sentences.js';
import { align, wer, words } from './speech/wer.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const QUICK = args.includes('--quick');
const SENTENCE_SET = QUICK ? SENTENCES.slice(0, 6) : SENTENCES;
const STREAM_STEPS = (flag('--streams') ?? (QUICK ? '2,4' : '4,8,12,16,20')).split(',').map(Number);
const LIVE_SECONDS = Number(flag('--seconds') ?? (QUICK ? 8 : 20));
const NICE = flag('--nice') === undefined ? undefined : Number(flag('--nice'));
/** With --nice: these processes get the priority (the real-time feeder and the decoders). */
function prioritise(pids: readonly number[]): void {
  if (NICE === undefined) return;
  for (const pid of pids) setPriority(pid, NICE);
}
prioritise([process.pid]);
const PARALLEL = Number(flag('--parallel') ?? 4);
const ONLY = new Set((flag('--only') ?? 'tts,frames,wer,delay,live').split(','));
const logger = createLogger('silent');

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '–');
const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;
const lines: string[] = [];
const out = (line = ''): void => {
  lines.push(line);
  console.log(line);
};

async function werSection(): Promise<void> {
  out(
    `### Word error rate (${SENTENCE_SET.length} sentences, ${SENTENCE_SET.reduce((n, s) => n + words(s).length, 0)} words)`,
  );
  out();
  out(
    '| voice | audio | WER | sentences exact | decoder CPU per second of audio | per second of speech |',
  );
  out('|---|---|---|---|---|---|');
  const conditions: { voice: string; rate: 8000 | 16000; label: string; secondPass?: boolean }[] = [
    { voice: 'slt', rate: 16000, label: '16 kHz' },
    {
      voice: 'slt',
      rate: 16000,
      label: '16 kHz, no second pass (`secondPass: false`)',
      secondPass: false,
    },
    { voice: 'slt', rate: 8000, label: 'telephone band: 8 kHz, resampled to 16 kHz' },
    ...(QUICK
      ? []
      : (['awb', 'rms', 'kal16'] as const).map((voice) => ({
          voice,
          rate: 16000 as const,
          label: '16 kHz',
        }))),
  ];
  for (const condition of conditions) {
    const t = pocketsphinx(1, { secondPass: condition.secondPass ?? true });
    await transcribeFast(t, 'warm up', { voice: condition.voice });
    const pid = t.processIds[0]!;
    const cpuBefore = cpuSeconds(pid);
    let errors = 0;
    let referenceWords = 0;
    let exact = 0;
    let audioSeconds = 0;
    let speechSeconds = 0;
    for (const sentence of SENTENCE_SET) {
      const result = await transcribeFast(t, sentence, {
        voice: condition.voice,
        rate: condition.rate,
      });
      const reference = words(sentence);
      const scored = align(reference, words(result.hypothesis));
      errors += scored.errors;
      referenceWords += reference.length;
      if (scored.errors === 0) exact += 1;
      audioSeconds += result.audioSeconds;
      speechSeconds += result.speechSeconds;
      if (condition.label === '16 kHz' && condition.voice === 'slt' && scored.errors > 0) {
        console.error(`  ref: ${sentence}\n  hyp: ${result.hypothesis}`);
      }
    }
    const cpu = cpuSeconds(pid) - cpuBefore;
    await t.close();
    out(
      `| ${condition.voice} | ${condition.label} | ${pct(wer({ errors, referenceWords, sentences: SENTENCE_SET.length, sentencesExact: exact }))} | ${exact}/${SENTENCE_SET.length} | ${(cpu / audioSeconds).toFixed(3)} s | ${(cpu / speechSeconds).toFixed(3)} s |`,
    );
  }
  out();
}

function cpuSeconds(pid: number): number {
  const stat = execFileSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' });
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function delaySection(): Promise<void> {
  out(
    `### Word spoken → first partial result (slt, 16 kHz, real time, ${PARALLEL} stream${PARALLEL > 1 ? 's' : ''} at once)`,
  );
  out();
  out(
    '| engine | words (only in the final) | word → partial p50 | p95 | max | in audio time p50 | p95 | last word → final p50 | p95 | engine delay p50 | p95 | WER |',
  );
  out('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const engines: {
    label: string;
    make: () => Promise<{
      t: PocketsphinxTranscriber | WebSocketTranscriber;
      /** The decoder processes, once started. */
      pids: () => number[];
      close: () => Promise<void>;
    }>;
  }[] = [
    {
      label: 'pocketsphinx (2 decoder processes)',
      make: async () => {
        const t = pocketsphinx(2);
        return { t, pids: () => t.processIds, close: () => t.close() };
      },
    },
    {
      label: 'websocket → recogniser server (pocketsphinx) on loopback',
      make: async () => {
        const backend = pocketsphinx(2);
        const server = await startRecogniserServer({ transcriber: backend, logger });
        const t = new WebSocketTranscriber({
          url: server.url,
          headers: {},
          sampleRate: 16000,
          connectTimeoutMs: 5000,
          reconnectAttempts: 0,
          reconnectDelayMs: 100,
          replaySeconds: 10,
          pingIntervalMs: 10_000,
          maxBacklogSeconds: 5,
          maxStreams: 64,
          endTimeoutMs: 60_000,
          logger,
        });
        return {
          t,
          pids: () => backend.processIds,
          close: async () => {
            await t.close();
            await server.close();
            await backend.close();
          },
        };
      },
    },
  ];
  for (const engine of engines) {
    const { t, pids, close } = await engine.make();
    // Warm: start the decoder processes and load their models before measuring.
    await Promise.all([0, 1, 2, 3].map(() => transcribeFast(t, 'warm up')));
    prioritise(pids());
    const d = await measureDelays(t, SENTENCE_SET, PARALLEL);
    await close();
    const w = summarize(d.wordToPartialMs);
    const sorted = [...d.wordToPartialMs].sort((a, b) => a - b);
    const f = summarize(d.utteranceToFinalMs);
    const e = summarize(d.engineDelayMs);
    const a = [...d.wordToPartialAudioMs].sort((x, y) => x - y);
    out(
      `| ${engine.label} | ${w.samples} (${d.wordsOnlyInFinal}) | ${ms(w.p50Ms)} ms | ${ms(percentile(sorted, 95))} ms | ${ms(w.maxMs)} ms | ${ms(percentile(a, 50))} ms | ${ms(percentile(a, 95))} ms | ${ms(f.p50Ms)} ms | ${ms(
        percentile(
          [...d.utteranceToFinalMs].sort((a, b) => a - b),
          95,
        ),
      )} ms | ${ms(e.p50Ms)} ms | ${ms(
        percentile(
          [...d.engineDelayMs].sort((a, b) => a - b),
          95,
        ),
      )} ms | ${pct(d.wordErrors / d.referenceWords)} |`,
    );
    if (d.errors.length > 0) out(`errors: ${d.errors.join('; ')}`);
  }
  out();
}

async function liveSection(): Promise<void> {
  out(
    `### Live streams on one decoder process (one core): ${LIVE_SECONDS} s of speech each, real time`,
  );
  out();
  out(
    '| streams | decoder CPU (% of one core) | decoder RSS | engine delay p50 | p95 | max | finals | errors |',
  );
  out('|---|---|---|---|---|---|---|---|');
  for (const streams of STREAM_STEPS) {
    const t = pocketsphinx(1);
    await transcribeFast(t, 'warm up');
    prioritise(t.processIds);
    const run = await liveStreams(t, SENTENCE_SET, streams, LIVE_SECONDS);
    await t.close();
    const sorted = [...run.engineDelayMs].sort((a, b) => a - b);
    out(
      `| ${streams} | ${run.cpuPercent.toFixed(0)} % | ${(run.rssBytes / 1048576).toFixed(0)} MB | ${ms(percentile(sorted, 50))} ms | ${ms(percentile(sorted, 95))} ms | ${ms(sorted.at(-1) ?? NaN)} ms | ${run.finals} | ${run.errors.length} |`,
    );
  }
  out();
}

/** Decoding on the caller's thread: what each 20 ms frame and each final would block the event loop for. */
async function inProcessSection(): Promise<void> {
  const lib = loadPocketsphinx();
  const config = lib.parseConfig([
    '-logfn',
    '/dev/null',
    '-hmm',
    `${MODEL}/en-us`,
    '-dict',
    `${MODEL}/cmudict-en-us.dict`,
    '-lm',
    `${MODEL}/en-us.lm.bin`,
  ]);
  const decoder = config ? lib.init(config) : null;
  if (!decoder) throw new Error('pocketsphinx did not start');
  const frameMs: number[] = [];
  const finalMs: number[] = [];
  const stream = new StreamDecoder(lib, decoder, {
    sampleRate: 16000,
    partialIntervalMs: 100,
    maxUtteranceMs: 30_000,
  });
  stream.start();
  for (const sentence of SENTENCE_SET) {
    const audio = await spoken(sentence);
    for (let i = 0; i < audio.samples.length; i += 320) {
      let finalled = false;
      const started = process.cpuUsage();
      stream.process(audio.samples.subarray(i, i + 320), {
        partial: () => undefined,
        final: () => (finalled = true),
      });
      const used = process.cpuUsage(started);
      const took = (used.user + used.system) / 1000;
      (finalled ? finalMs : frameMs).push(took);
    }
  }
  lib.free(decoder);
  const f = summarize(frameMs);
  const sortedFrames = [...frameMs].sort((a, b) => a - b);
  const e = summarize(finalMs);
  out(
    '### Decoding on the calling thread (why decoders run in child processes): CPU time per call',
  );
  out();
  out('| step | count | p50 | p99 | max |');
  out('|---|---|---|---|---|');
  out(
    `| one 20 ms frame (partials every 100 ms) | ${f.samples} | ${f.p50Ms.toFixed(2)} ms | ${percentile(sortedFrames, 99).toFixed(2)} ms | ${f.maxMs.toFixed(2)} ms |`,
  );
  out(
    `| the frame that ends an utterance (final: second pass, lattice) | ${e.samples} | ${e.p50Ms.toFixed(1)} ms | ${e.p99Ms.toFixed(1)} ms | ${e.maxMs.toFixed(1)} ms |`,
  );
  out();
}

async function ttsSection(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-bench-tts-'));
  try {
    out('### Text to speech (flite, slt; sox to the rate asked)');
    out();
    out('| request | texts | p50 | p95 | max |');
    out('|---|---|---|---|---|');
    for (const sampleRate of [8000, 16000] as const) {
      const tts = new FliteTextToSpeech({
        cacheDir: join(dir, String(sampleRate)),
        voices: FLITE_VOICES,
        defaultVoice: 'slt',
        maxConcurrent: 2,
        timeoutMs: 30_000,
        maxTextLength: 2000,
        cacheMaxBytes: 1 << 30,
        logger,
      });
      for (const phase of [
        'cold (flite + sox, written to the cache)',
        'cached (header read from disk)',
      ]) {
        const times: number[] = [];
        for (const sentence of SENTENCE_SET) {
          const started = performance.now();
          await tts.synthesize(sentence, { sampleRate });
          times.push(performance.now() - started);
        }
        const s = summarize(times);
        const sorted = [...times].sort((a, b) => a - b);
        out(
          `| ${sampleRate / 1000} kHz, ${phase} | ${s.samples} | ${s.p50Ms.toFixed(1)} ms | ${percentile(sorted, 95).toFixed(1)} ms | ${s.maxMs.toFixed(1)} ms |`,
        );
      }
      await tts.close();
    }
    out();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
out(`## Speech — \`node --import tsx bench/src/speech.ts\``);
out();
out(
  `${new Date().toISOString().slice(0, 10)}, commit ${commit}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()[0]!.toFixed(1)} at the start${NICE === undefined ? '' : `, feeder and decoder processes at nice ${NICE}`}; Node ${process.version}; Debian pocketsphinx 0.8+5prealpha (en-us model), flite 2.2.`,
);
out();
if (ONLY.has('tts')) await ttsSection();
if (ONLY.has('frames')) await inProcessSection();
if (ONLY.has('wer')) await werSection();
if (ONLY.has('delay')) await delaySection();
if (ONLY.has('live')) await liveSection();
out(`load average at the end: ${loadavg()[0]!.toFixed(1)}`);
