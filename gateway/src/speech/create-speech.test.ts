/** The speech section of the config, and the engines it builds. */
import { tmpdir } from 'node:os';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@parley/shared/tokens';
import { describe, expect, it } from 'vitest';

import { loadConfig } from '../config/index.js';
import { createLogger } from '../observability/index.js';
import { createSpeech, speechCacheDir } from './create-speech.js';
import { PocketsphinxTranscriber } from './pocketsphinx/pocketsphinx-transcriber.js';
import { WebSocketTranscriber } from './websocket/websocket-transcriber.js';

async function config(extra: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  const gateway = await generateEncryptionKeyPair();
  const tenant = await generateSigningKeyPair();
  return loadConfig({
    input: {
      gatewayId: 'gw',
      tokens: { encryptionKeys: [gateway.privateJwk] },
      tenants: { acme: { jwks: [tenant.publicJwk] } },
      ...extra,
    },
    env,
  });
}

const logger = createLogger('silent');

describe('speech config', () => {
  it('defaults to pocketsphinx from Debian and flite with slt, caching beside the database', async () => {
    const c = await config({ storage: { path: '/var/lib/parley/parley.sqlite' } });
    expect(c.speech.engine).toBe('pocketsphinx');
    expect(c.speech.pocketsphinx.hmm).toBe('/usr/share/pocketsphinx/model/en-us/en-us');
    expect(c.speech.tts.defaultVoice).toBe('slt');
    expect(speechCacheDir(c)).toBe('/var/lib/parley/speech-cache');
    const memory = await config({ storage: { path: ':memory:' } });
    expect(speechCacheDir(memory).startsWith(tmpdir())).toBe(true);
    const chosen = await config({ speech: { tts: { cacheDir: '/srv/prompts' } } });
    expect(speechCacheDir(chosen)).toBe('/srv/prompts');

    const speech = createSpeech(c, { logger });
    expect(speech.transcriber).toBeInstanceOf(PocketsphinxTranscriber);
    expect(speech.transcriber.sampleRate).toBe(16000);
    expect(speech.tts.voices).toContain('slt');
    await speech.close();
    await speech.close();
  });

  it('builds the websocket engine, its token from the environment', async () => {
    const c = await config(
      {
        speech: {
          engine: 'websocket',
          websocket: { url: 'wss://asr.example/stream', sampleRate: 8000 },
        },
      },
      { PARLEY_SPEECH_TOKEN: 'from-env' },
    );
    expect(c.speech.websocket?.token).toBe('from-env');
    const speech = createSpeech(c, { logger });
    expect(speech.transcriber).toBeInstanceOf(WebSocketTranscriber);
    expect(speech.transcriber.sampleRate).toBe(8000);
    await speech.close();
  });

  it('refuses what cannot work, saying which key', async () => {
    await expect(config({ speech: { engine: 'websocket' } })).rejects.toThrow(/speech\.websocket/);
    await expect(config({ speech: { websocket: { url: 'http://asr.example/' } } })).rejects.toThrow(
      /speech\.websocket\.url/,
    );
    await expect(config({ speech: { tts: { voices: ['kal'] } } })).rejects.toThrow(
      /speech\.tts\.defaultVoice/,
    );
    await expect(config({ speech: { tts: { voices: ['nobody'] } } })).rejects.toThrow(
      /speech\.tts\.voices/,
    );
    await expect(config({}, { PARLEY_SPEECH_TOKEN: 'x' })).rejects.toThrow(/PARLEY_SPEECH_TOKEN/);
  });
});
