import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, expect, it } from 'vitest';

import { makeTone } from './audio.js';
import { launchChromium } from './chromium.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-chromium-test-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

// Runs in the page: the dominant frequency of the microphone, through an AnalyserNode.
const MEASURE_MICROPHONE = `(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 8192;
  context.createMediaStreamSource(stream).connect(analyser);
  await new Promise((r) => setTimeout(r, 700));
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  let best = 0;
  for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  const track = stream.getAudioTracks()[0];
  return { label: track.label, state: track.readyState, peakHz: (best * context.sampleRate) / analyser.fftSize };
})()`;

it('launches Chromium with a WAV as the microphone, read back through getUserMedia', async () => {
  const wav = await makeTone({
    path: join(dir, 'mic.wav'),
    freqHz: 700,
    seconds: 3,
    rate: 48000,
    volume: 0.5,
  });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>testkit</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const browser = await launchChromium({ fakeAudioCapture: wav });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const mic = (await page.evaluate(MEASURE_MICROPHONE)) as {
      label: string;
      state: string;
      peakHz: number;
    };
    expect(mic.state).toBe('live');
    expect(Math.abs(mic.peakHz - 700)).toBeLessThan(15);
  } finally {
    await browser.close();
    server.close();
  }
});
