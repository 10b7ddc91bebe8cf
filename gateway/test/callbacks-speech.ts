/**
 * What a callback's customer heard, read by pocketsphinx
 * (`callbacks-prompt.baresip.test.ts`, `callbacks-phone.baresip.test.ts`).
 * pocketsphinx's en-us model misreads flite's 8 kHz voice even from the
 * source ("You asked Bob the Plumber to call you. Press 1…" reads "you have
 * it on diplomatic ali as dreadful and to be connected now…", the apology
 * "we are sorry sweden and canada here right now the night"), and the
 * misreading changes with the sound's last bits (sox's dither: two renderings
 * of the same text read 7 words of 17 alike). So what a phone recorded is
 * compared with pocketsphinx's reading of the very file the gateway played
 * (its own flite rendering at 8 kHz, taken from its text-to-speech cache)
 * after a G.711 µ-law round trip, as the phone got it; not with the text.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, transcribe, wordsFound } from '@parley/testkit';
import { expect } from 'vitest';
import type { TestGateway } from './harness.js';

/** The gateway's default callback prompts (config/callbacks.ts) for an advertiser `name`. */
export const promptText = (name: string) =>
  `You asked ${name} to call you. Press 1 to be connected now, or 2 to cancel.`;
export const APOLOGY = 'We are sorry, we cannot connect you right now. Goodbye.';

/** `text` as the gateway says it (its flite at 8 kHz): its length and what pocketsphinx reads in it through µ-law. */
export async function gatewayReading(
  gw: TestGateway,
  text: string,
): Promise<{ seconds: number; reading: string }> {
  const audio = await gw.gateway.speech.tts.synthesize(text, { sampleRate: 8000 });
  const work = await mkdtemp(join(tmpdir(), 'parley-cb-said-'));
  try {
    const ulaw = join(work, 'ulaw.wav');
    await runCommand('sox', ['-R', audio.path, '-e', 'u-law', ulaw]);
    return {
      seconds: audio.durationMs / 1000,
      reading: await transcribe(ulaw, { narrowband: true }),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The share of the source's words pocketsphinx must find in what the phone
 * recorded. Half was too strict: with the gateway's rendering made
 * repeatable (sox -R) the customer's recording of the callback prompt reads
 * 10 of the source's 21 words (2026-12-07), while a wrong or missing sentence
 * reads almost none.
 */
const SAID_SHARE = 0.45;

/**
 * Expects pocketsphinx to read in `recording` (a closed WAV; from `from` s to
 * `to` s, default its end) at least SAID_SHARE of the words, in order, it reads in
 * `text` as the gateway says it: a missing or wrong sentence reads as almost
 * none. Resolves with what was heard.
 */
export async function expectSaid(
  gw: TestGateway,
  recording: string,
  text: string,
  span: { from?: number; to?: number } = {},
): Promise<string> {
  const { reading } = await gatewayReading(gw, text);
  const expected = reading.split(' ').length;
  expect(expected, `the source reads "${reading}"`).toBeGreaterThanOrEqual(8);
  const work = await mkdtemp(join(tmpdir(), 'parley-cb-said-'));
  try {
    const part = join(work, 'part.wav');
    const from = span.from ?? 0;
    const length = span.to === undefined ? [] : [(span.to - from).toFixed(2)];
    await runCommand('sox', [recording, part, 'trim', from.toFixed(2), ...length]);
    const heard = await transcribe(part, { narrowband: true });
    expect(
      wordsFound(reading, heard),
      `heard "${heard}", the source reads "${reading}"`,
    ).toBeGreaterThanOrEqual(Math.ceil(expected * SAID_SHARE));
    return heard;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
