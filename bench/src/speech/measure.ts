/**
 * Measurements of the speech benchmark, each on a Transcriber given to it:
 * word error rate (audio written as fast as the engine takes it), the delay
 * from a word spoken to its first partial result (audio written in real
 * time), and live streams on one decoder process.
 */
import { readProcSample } from '../proc-usage.js';
import { feedInRealTime, spoken, type SpokenOptions } from '../../../gateway/test/speech-audio.js';
import type {
  FinalResult,
  Transcriber,
  TranscriberStream,
} from '../../../gateway/src/speech/index.js';
import { align, words } from './wer.js';

export interface Heard {
  readonly finals: { final: FinalResult; at: number }[];
  readonly partials: { utterance: number; words: string[]; audioMs?: number; at: number }[];
  readonly writes: { writtenMs: number; at: number }[];
  readonly error?: string;
}

function listen(stream: TranscriberStream): { heard: Heard; closed: Promise<void> } {
  const heard: Heard & { error?: string } = { finals: [], partials: [], writes: [] };
  stream.on('partial', (p) =>
    heard.partials.push({
      utterance: p.utterance,
      words: words(p.text),
      ...(p.audioMs !== undefined ? { audioMs: p.audioMs } : {}),
      at: performance.now(),
    }),
  );
  stream.on('final', (final) => heard.finals.push({ final, at: performance.now() }));
  stream.on('error', (error) => (heard.error = `${error.code}: ${error.detail ?? ''}`));
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  return { heard, closed };
}

/** One sentence through a stream, written in 100 ms pieces as fast as they are taken. */
export async function transcribeFast(
  transcriber: Transcriber,
  text: string,
  options: SpokenOptions = {},
): Promise<{ hypothesis: string; audioSeconds: number; speechSeconds: number; error?: string }> {
  const audio = await spoken(text, options);
  const stream = transcriber.open();
  const { heard, closed } = listen(stream);
  const piece = transcriber.sampleRate / 10;
  for (let i = 0; i < audio.samples.length; i += piece) {
    stream.write(audio.samples.subarray(i, i + piece));
  }
  stream.end();
  await closed;
  return {
    hypothesis: heard.finals.map((f) => f.final.text).join(' '),
    audioSeconds: audio.samples.length / audio.sampleRate,
    speechSeconds: (audio.speechEndMs - audio.speechStartMs) / 1000,
    ...(heard.error ? { error: heard.error } : {}),
  };
}

export interface WordDelays {
  /** Word end (in the audio) → first partial (or final) showing it, ms, for words recognised right. */
  readonly wordToPartialMs: number[];
  /**
   * Word end → the audio position at which the decoder made the first partial
   * showing it (`audioMs`), ms: the recogniser's own delay, which no load on
   * the machine changes. Words a partial never showed are not in it.
   */
  readonly wordToPartialAudioMs: number[];
  /** Words first shown by their final rather than a partial. */
  wordsOnlyInFinal: number;
  /** Last word's end → the utterance's final, ms. */
  readonly utteranceToFinalMs: number[];
  /** Partial → when the last audio it covers was written (the engine's own delay), ms. */
  readonly engineDelayMs: number[];
  readonly errors: string[];
  readonly referenceWords: number;
  readonly wordErrors: number;
}

/** Wall time at which the stream had been written up to `ms` of audio. */
function writtenAt(writes: Heard['writes'], ms: number): number | undefined {
  return writes.find((w) => w.writtenMs >= ms)?.at;
}

/** Sentences spoken in real time, `parallel` streams at once. */
export async function measureDelays(
  transcriber: Transcriber,
  sentences: readonly string[],
  parallel: number,
): Promise<WordDelays> {
  const out: WordDelays = {
    wordToPartialMs: [],
    wordToPartialAudioMs: [],
    wordsOnlyInFinal: 0,
    utteranceToFinalMs: [],
    engineDelayMs: [],
    errors: [],
    referenceWords: 0,
    wordErrors: 0,
  };
  for (let i = 0; i < sentences.length; i += parallel) {
    await Promise.all(
      sentences.slice(i, i + parallel).map(async (text) => {
        const audio = await spoken(text);
        const stream = transcriber.open();
        const { heard, closed } = listen(stream);
        await feedInRealTime(stream, audio.samples, {
          onFrame: (writtenMs, at) => heard.writes.push({ writtenMs, at }),
        });
        stream.end();
        await closed;
        if (heard.error) out.errors.push(heard.error);
        collect(text, heard, out);
      }),
    );
  }
  return out;
}

function collect(text: string, heard: Heard, out: WordDelays): void {
  const reference = words(text);
  const finalWords = heard.finals.flatMap(({ final, at }) =>
    final.words.map((word) => ({ ...word, utterance: final.utterance, finalAt: at })),
  );
  const hypothesis = finalWords.map((w) => w.word);
  const scored = align(reference, hypothesis);
  (out as { referenceWords: number }).referenceWords += reference.length;
  (out as { wordErrors: number }).wordErrors += scored.errors;
  const correct = new Set(scored.matches.filter((m) => m !== undefined));
  // First time each final word is shown by a partial of its utterance.
  const seen: (number | undefined)[] = new Array(finalWords.length).fill(undefined);
  const seenAudioMs: (number | undefined)[] = new Array(finalWords.length).fill(undefined);
  for (const partial of heard.partials) {
    const indices = finalWords
      .map((w, index) => ({ w, index }))
      .filter(({ w }) => w.utterance === partial.utterance);
    const matched = align(
      indices.map(({ w }) => w.word),
      partial.words,
    ).matches;
    matched.forEach((m, k) => {
      const index = indices[k]?.index;
      if (m !== undefined && index !== undefined && seen[index] === undefined) {
        seen[index] = partial.at;
        seenAudioMs[index] = partial.audioMs;
      }
    });
    if (partial.audioMs !== undefined) {
      const at = writtenAt(heard.writes, partial.audioMs);
      if (at !== undefined) out.engineDelayMs.push(partial.at - at);
    }
  }
  finalWords.forEach((word, index) => {
    if (!correct.has(index)) return;
    const spokenAt = writtenAt(heard.writes, word.endMs);
    const shownAt = seen[index] ?? word.finalAt;
    if (seen[index] === undefined) out.wordsOnlyInFinal += 1;
    const audioMs = seenAudioMs[index];
    if (audioMs !== undefined) out.wordToPartialAudioMs.push(Math.max(0, audioMs - word.endMs));
    if (spokenAt !== undefined) out.wordToPartialMs.push(Math.max(0, shownAt - spokenAt));
  });
  for (const { final, at } of heard.finals) {
    const spokenAt = writtenAt(heard.writes, final.endMs);
    if (spokenAt !== undefined && final.words.length > 0)
      out.utteranceToFinalMs.push(at - spokenAt);
  }
}

export interface LiveRun {
  readonly streams: number;
  readonly seconds: number;
  /** Decoder process CPU over the run, % of one core. */
  readonly cpuPercent: number;
  /** Decoder process resident memory at the end of the run (all streams' decoders loaded). */
  readonly rssBytes: number;
  readonly engineDelayMs: number[];
  readonly finals: number;
  readonly errors: string[];
}

/**
 * `streams` real-time streams at once for `seconds`, each speaking the
 * sentences in turn with pauses, all on one decoder process (`pid`).
 */
export async function liveStreams(
  transcriber: Transcriber & { readonly processIds: number[] },
  sentences: readonly string[],
  streams: number,
  seconds: number,
): Promise<LiveRun> {
  const clips = await Promise.all(sentences.map((s) => spoken(s, { leadMs: 300, trailMs: 900 })));
  const runs = Array.from({ length: streams }, (_, n) => {
    // Each stream starts at another sentence, so the streams do not speak in step.
    const parts: Int16Array[] = [];
    let length = 0;
    for (let k = 0; length < seconds * transcriber.sampleRate; k++) {
      const clip = clips[(n + k) % clips.length]!.samples;
      parts.push(clip);
      length += clip.length;
    }
    const samples = new Int16Array(length);
    let offset = 0;
    for (const part of parts) {
      samples.set(part, offset);
      offset += part.length;
    }
    return samples.subarray(0, seconds * transcriber.sampleRate);
  });
  const pidsBefore = transcriber.processIds;
  const before = pidsBefore.map((pid) => readProcSample(pid)?.cpuSeconds ?? 0);
  const started = performance.now();
  const results = await Promise.all(
    runs.map(async (samples) => {
      const stream = transcriber.open();
      const { heard, closed } = listen(stream);
      await feedInRealTime(stream, samples, {
        onFrame: (writtenMs, at) => heard.writes.push({ writtenMs, at }),
      });
      stream.end();
      await closed;
      return heard;
    }),
  );
  const wall = (performance.now() - started) / 1000;
  const rssBytes = pidsBefore.reduce((sum, pid) => sum + (readProcSample(pid)?.rssBytes ?? 0), 0);
  const cpu = pidsBefore.reduce(
    (sum, pid, i) => sum + (readProcSample(pid)?.cpuSeconds ?? 0) - (before[i] ?? 0),
    0,
  );
  const engineDelayMs: number[] = [];
  for (const heard of results) {
    for (const partial of heard.partials) {
      const at =
        partial.audioMs === undefined ? undefined : writtenAt(heard.writes, partial.audioMs);
      if (at !== undefined) engineDelayMs.push(partial.at - at);
    }
  }
  return {
    streams,
    seconds,
    cpuPercent: (cpu / wall) * 100,
    rssBytes,
    engineDelayMs,
    finals: results.reduce((sum, heard) => sum + heard.finals.length, 0),
    errors: results.flatMap((heard) => (heard.error ? [heard.error] : [])),
  };
}
