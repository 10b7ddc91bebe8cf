/**
 * Media applications against a real phone: baresip answers a call whose
 * media ends on one of our relay transports (no call layer: the endpoint is
 * driven directly), for each G.711 codec:
 * - a prompt spoken by flite and played to the phone is found by pocketsphinx
 *   in what the phone recorded, and a tone played arrives at its frequency;
 * - our recorder's files hold the phone's own tone (in), what we played (out)
 *   and both (mixed);
 * - a transcriber feed (16 kHz) of a phone speaking a flite sentence over
 *   PCMU is recognised by pocketsphinx.
 */
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyse,
  loopAudio,
  runCommand,
  speak,
  startBaresipAgent,
  stopAll,
  transcribe,
  wordsFound,
  type BaresipAgent,
} from '@parley/testkit';
import { MediaApps, tone, wavFile } from '../src/media/apps/index.js';
import { levelAt, until } from '../src/media/apps/test-leg.js';
import { wavHeader } from '../src/media/apps/wav.js';
import { createRelayEngine, type RelayEngine } from '../src/media/relay-engine.js';
import { reservePortBase } from '../src/media/test-phone.js';
import { callPeer } from './media-peer-call.js';
import { RawSipClient } from './raw-sip.js';

const PROMPT = 'please leave your message after the tone';
let engine: RelayEngine;
let apps: MediaApps;
let client: RawSipClient;
let work: string;
let prompt: string;
const phones: BaresipAgent[] = [];

beforeAll(async () => {
  const base = await reservePortBase(16);
  engine = createRelayEngine({
    address: '127.0.0.1',
    portMin: base,
    portMax: base + 15,
    logger: pino({ level: 'silent' }),
  });
  apps = new MediaApps({ logger: pino({ level: 'silent' }) });
  client = await RawSipClient.open();
  work = await mkdtemp(join(tmpdir(), 'parley-media-apps-'));
  // flite's own 16 kHz: the player resamples it to the leg's 8 kHz.
  prompt = await speak({ text: PROMPT, path: join(work, 'prompt.wav') });
});
afterAll(async () => {
  apps?.close();
  client?.close();
  for (const phone of phones) await phone.stop();
  await engine?.close();
  await stopAll();
});

async function phoneFor(codec: 'PCMU' | 'PCMA'): Promise<BaresipAgent> {
  const phone = await startBaresipAgent({ user: `phone-${codec.toLowerCase()}`, codecs: [codec] });
  phones.push(phone);
  return phone;
}

/** The part of a recording after its leading silence (the call starts before the audio). */
async function trimmed(path: string): Promise<string> {
  const out = path.replace(/\.wav$/, '-trimmed.wav');
  await runCommand('sox', [path, out, 'silence', '1', '0.05', '2%']);
  return out;
}

describe.each(['PCMU', 'PCMA'] as const)('media applications on a %s phone call', (codecName) => {
  let phone: BaresipAgent;
  beforeAll(async () => {
    phone = await phoneFor(codecName);
  });

  it('plays a flite prompt the phone hears word for word, and records both directions and the mix', async () => {
    const router = engine.createRouter({ callId: `prompt-${codecName}`, inactivityTimeoutMs: 0 });
    const transport = await router.createPlainTransport({ name: 'phone' });
    const target = phone.uri.replace(/^sip:[^@]+@/, '').replace(/;.*$/, '');
    const call = await callPeer(client, target, phone.user, transport, codecName);
    expect(call.codec.name.toUpperCase()).toBe(codecName);
    const leg = await apps.attach(router, transport, call);
    const files = {
      in: join(work, `${codecName}-in.wav`),
      out: join(work, `${codecName}-out.wav`),
      mixed: join(work, `${codecName}-mixed.wav`),
    };
    const recorder = leg.record({ files });
    const played = await leg.play(wavFile(prompt));
    expect(played).toMatchObject({ reason: 'done', underruns: 0 });
    const recorded = await recorder.stop();
    expect(recorded.reason).toBe('stopped');
    const since = phone.mark();
    await call.bye();
    await phone.waitForEvent('CALL_CLOSED', undefined, 10_000, { since });
    router.close();

    // Kept beside our own files: the phone's directory goes with it.
    const heard = join(work, `${codecName}-phone-heard.wav`);
    await copyFile(phone.lastRecording().received!, heard);
    // Found: at least 5 of its 7 words, in order (one narrowband word may be misheard).
    const words = await transcribe(heard, { narrowband: true });
    expect(wordsFound(PROMPT, words), words).toBeGreaterThanOrEqual(5);

    // Our recording: the phone's 800 Hz tone in, the prompt out, both in the mix.
    const mine = await analyse(files.in);
    expect(Math.abs(mine.roughFrequencyHz - 800)).toBeLessThan(60);
    const sent = await transcribe(files.out, { narrowband: true });
    expect(wordsFound(PROMPT, sent), sent).toBeGreaterThanOrEqual(5);
    const mixed = new Int16Array((await readFile(files.mixed)).buffer.slice(44));
    expect(levelAt(mixed, 8000, 800)).toBeGreaterThan(2000);
    expect(recorded.durationMs).toBeGreaterThan(2000);
  });

  it('plays a tone the phone hears at its frequency', async () => {
    const router = engine.createRouter({ callId: `tone-${codecName}`, inactivityTimeoutMs: 0 });
    const transport = await router.createPlainTransport({ name: 'phone' });
    const target = phone.uri.replace(/^sip:[^@]+@/, '').replace(/;.*$/, '');
    // sndfile names recordings by the second: never two calls in the same one.
    await new Promise((r) => setTimeout(r, 1100));
    const call = await callPeer(client, target, phone.user, transport, codecName);
    const leg = await apps.attach(router, transport, call);
    expect((await leg.play(tone({ frequencyHz: 1000, durationMs: 1500 }))).reason).toBe('done');
    const since = phone.mark();
    await call.bye();
    await phone.waitForEvent('CALL_CLOSED', undefined, 10_000, { since });
    router.close();
    const heard = await analyse(await trimmed(phone.lastRecording().received!));
    expect(heard.rms).toBeGreaterThan(0.1);
    expect(Math.abs(heard.roughFrequencyHz - 1000)).toBeLessThan(60);
  });
});

describe('a transcriber feed', () => {
  it('gives pocketsphinx 16 kHz audio of a phone speaking over PCMU that it recognises', async () => {
    // The phone's microphone: the sentence at 8 kHz (aufile does not resample), looped with gaps.
    const speech = await loopAudio({
      input: prompt,
      path: join(work, 'phone-speech.wav'),
      seconds: 60,
      gapSeconds: 1,
      rate: 8000,
      channels: 1,
    });
    const phone = await startBaresipAgent({
      user: 'speaker',
      codecs: ['PCMU'],
      audioSource: speech,
    });
    phones.push(phone);
    const router = engine.createRouter({ callId: 'feed', inactivityTimeoutMs: 0 });
    const transport = await router.createPlainTransport({ name: 'phone' });
    const target = phone.uri.replace(/^sip:[^@]+@/, '').replace(/;.*$/, '');
    const call = await callPeer(client, target, phone.user, transport, 'PCMU');
    const leg = await apps.attach(router, transport, call);
    const feed = leg.feed({ sampleRate: 16000 });
    const chunks: Buffer[] = [];
    feed.readable.on('data', (chunk: Buffer) => chunks.push(chunk));
    // One pass of the sentence and its gap: 2.3 s + 1 s, with a margin.
    const bytes = () => chunks.reduce((n, c) => n + c.length, 0);
    await until(() => bytes() >= 16000 * 2 * 4.5, '4.5 s of feed', 15_000);
    feed.close();
    await call.bye();
    router.close();
    const pcm = Buffer.concat(chunks);
    const path = join(work, 'feed-16k.wav');
    await writeFile(path, Buffer.concat([wavHeader(16000, 1, pcm.length), pcm]));
    expect(feed.droppedFrames).toBe(0);
    // The feed adds the high-band noise itself: no narrowband treatment here.
    const words = await transcribe(path);
    expect(wordsFound(PROMPT, words), words).toBeGreaterThanOrEqual(5);
  });
});
