/**
 * Where each word of a sentence ends in flite's audio: the sentence is
 * transcribed here, fast, by the same recogniser the gateway uses
 * (pocketsphinx, narrowband audio as G.711 carries it), and the words it got
 * right keep their end times. The live voicemail bench measures a word's delay
 * from the moment the caller sent the audio up to that end.
 */
import type { PocketsphinxTranscriber } from '../../../gateway/src/speech/index.js';
import { spoken } from '../../../gateway/test/speech-audio.js';
import { pocketsphinx } from '../speech/pocketsphinx.js';
import { align, words } from '../speech/wer.js';

export interface WordEnd {
  readonly word: string;
  /** From the sentence's start (ms). */
  readonly endMs: number;
}

/** The word ends of each of `texts`, from one reference recogniser closed afterwards. */
export async function wordEndsOf(texts: Iterable<string>): Promise<Map<string, WordEnd[]>> {
  const reference = pocketsphinx(1, { maxStreams: 4, idleDecoders: 1 });
  const ends = new Map<string, WordEnd[]>();
  try {
    for (const text of texts) ends.set(text, await wordEnds(reference, text));
  } finally {
    await reference.close();
  }
  return ends;
}

async function wordEnds(transcriber: PocketsphinxTranscriber, text: string): Promise<WordEnd[]> {
  // Half a second of silence first, as the caller's line has before it speaks: without it
  // pocketsphinx misses the first words. Times are given from the sentence's start.
  const LEAD_MS = 500;
  const audio = await spoken(text, { rate: 8000, leadMs: LEAD_MS, trailMs: 800 });
  const stream = transcriber.open();
  const found: WordEnd[] = [];
  stream.on('final', (final) =>
    found.push(
      ...final.words.map((w) => ({ word: words(w.word)[0] ?? '', endMs: w.endMs - LEAD_MS })),
    ),
  );
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  const piece = transcriber.sampleRate / 10;
  for (let i = 0; i < audio.samples.length; i += piece)
    stream.write(audio.samples.subarray(i, i + piece));
  stream.end();
  await closed;
  const reference = words(text);
  const matches = align(
    reference,
    found.map((f) => f.word),
  ).matches;
  return reference.flatMap((word, i) => {
    const m = matches[i];
    const at = m === undefined ? undefined : found[m];
    return at ? [{ word, endMs: at.endMs }] : [];
  });
}
