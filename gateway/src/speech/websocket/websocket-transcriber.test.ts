/**
 * The WebSocket engine against a real recogniser: `RecogniserServer` running
 * the pocketsphinx engine behind the protocol, fed flite-spoken sentences in
 * real-time 20 ms frames. Failures are real too: the server closed, its
 * connections cut, a port where nothing listens, a server that stops
 * answering pings, one that breaks the protocol.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortAllocator } from '@parley/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';

import { feedInRealTime, spoken, speakInto } from '../../../test/speech-audio.js';
import { createLogger } from '../../observability/index.js';
import { PocketsphinxTranscriber } from '../pocketsphinx/pocketsphinx-transcriber.js';
import type {
  FinalResult,
  PartialResult,
  TranscriberError,
  TranscriberStream,
} from '../transcriber.js';
import { startRecogniserServer, type RecogniserServer } from './recogniser-server.js';
import { WebSocketTranscriber, type WebSocketTranscriberOptions } from './websocket-transcriber.js';

const MODEL = '/usr/share/pocketsphinx/model/en-us';
const TOKEN = 'recogniser-test-token';
const logger = createLogger('silent');

let pocketsphinx: PocketsphinxTranscriber;
let server: RecogniserServer;
beforeAll(async () => {
  pocketsphinx = new PocketsphinxTranscriber({
    hmm: `${MODEL}/en-us`,
    dict: `${MODEL}/cmudict-en-us.dict`,
    lm: `${MODEL}/en-us.lm.bin`,
    processes: 2,
    maxStreams: 16,
    idleDecoders: 2,
    partialIntervalMs: 100,
    endSilenceMs: 500,
    maxUtteranceSeconds: 30,
    secondPass: true,
    startTimeoutMs: 30_000,
    endTimeoutMs: 30_000,
    logger,
  });
  server = await startRecogniserServer({ transcriber: pocketsphinx, logger, token: TOKEN });
});
afterAll(async () => {
  await server.close();
  await pocketsphinx.close();
});

const clients: WebSocketTranscriber[] = [];
const extraServers: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(extraServers.splice(0).map((s) => s.close()));
});

function client(options: Partial<WebSocketTranscriberOptions> = {}): WebSocketTranscriber {
  const c = new WebSocketTranscriber({
    url: server.url,
    headers: {},
    token: TOKEN,
    sampleRate: 16000,
    connectTimeoutMs: 5000,
    reconnectAttempts: 2,
    reconnectDelayMs: 50,
    replaySeconds: 20,
    pingIntervalMs: 5000,
    maxBacklogSeconds: 10,
    maxStreams: 8,
    endTimeoutMs: 30_000,
    logger,
    ...options,
  });
  clients.push(c);
  return c;
}

interface Recorded {
  partials: PartialResult[];
  finals: FinalResult[];
  errors: TranscriberError[];
  closes: number;
  closed: Promise<void>;
}

function record(stream: TranscriberStream): Recorded {
  const r: Recorded = {
    partials: [],
    finals: [],
    errors: [],
    closes: 0,
    closed: new Promise((resolve) => stream.once('close', () => resolve())),
  };
  stream.on('partial', (result) => r.partials.push(result));
  stream.on('final', (result) => r.finals.push(result));
  stream.on('error', (error) => r.errors.push(error));
  stream.on('close', () => (r.closes += 1));
  return r;
}

const text = (r: Recorded): string => r.finals.map((f) => f.text).join(' ');

// Real time audio on a shared machine: generous limits (no timing is asserted).
describe(
  'WebSocketTranscriber against the pocketsphinx recogniser server',
  { timeout: 90_000 },
  () => {
    it('streams partials while the audio arrives and finals with the words, times in the stream', async () => {
      const audio = await spoken('please call me back tomorrow morning');
      const stream = client().open({ id: 'leg-ws' });
      const events = record(stream);
      const mid = await speakInto(stream, audio);
      stream.end();
      await events.closed;
      expect(events.errors).toEqual([]);
      expect(events.closes).toBe(1);
      // A partial came over the WebSocket while only part of the sentence was written.
      expect(mid.partial?.text).toMatch(/\w/);
      expect(mid.writtenMs).toBeLessThan(audio.speechEndMs);
      expect(mid.partial?.audioMs).toBeLessThanOrEqual(mid.writtenMs);
      expect(events.finals).toHaveLength(1);
      expect(events.finals[0]?.text).toMatch(/call me back tomorrow morning/);
      expect(events.finals[0]?.startMs).toBeGreaterThanOrEqual(audio.speechStartMs - 100);
      expect(events.finals[0]?.words.length).toBeGreaterThanOrEqual(5);
    });

    it('runs concurrent streams over their own connections', async () => {
      const c = client();
      const sentences = [
        'my account number is four five six seven',
        'i would like to speak to someone about billing',
      ];
      const results = await Promise.all(
        sentences.map(async (sentence) => {
          const audio = await spoken(sentence);
          const stream = c.open();
          const events = record(stream);
          await feedInRealTime(stream, audio.samples);
          stream.end();
          await events.closed;
          return events;
        }),
      );
      for (const r of results) expect(r.errors).toEqual([]);
      expect(text(results[0]!)).toMatch(/account number/);
      expect(text(results[1]!)).toMatch(/speak to someone/);
      expect(c.streamCount).toBe(0);
    });

    it('reconnects after the connection is cut mid-sentence and recognises the sentence whole', async () => {
      const audio = await spoken('please call me back tomorrow morning');
      const stream = client().open();
      const events = record(stream);
      let cut = false;
      await feedInRealTime(stream, audio.samples, {
        onFrame: (writtenMs) => {
          // Cut in the middle of the sentence, once.
          if (!cut && writtenMs >= audio.speechStartMs + 800) {
            cut = true;
            server.dropConnections();
          }
        },
      });
      stream.end();
      await events.closed;
      expect(cut).toBe(true);
      expect(events.errors).toEqual([]);
      expect(text(events)).toMatch(/call me back tomorrow morning/);
      // The replayed audio is in the stream's time, not the new connection's.
      expect(events.finals.at(-1)?.startMs).toBeGreaterThanOrEqual(audio.speechStartMs - 100);
    });

    it('gives one error and no crash when the recogniser goes away for good', async () => {
      const pocket = new PocketsphinxTranscriber({
        hmm: `${MODEL}/en-us`,
        dict: `${MODEL}/cmudict-en-us.dict`,
        lm: `${MODEL}/en-us.lm.bin`,
        processes: 1,
        maxStreams: 4,
        idleDecoders: 1,
        partialIntervalMs: 100,
        endSilenceMs: 500,
        maxUtteranceSeconds: 30,
        secondPass: true,
        startTimeoutMs: 30_000,
        endTimeoutMs: 30_000,
        logger,
      });
      extraServers.push(pocket);
      const doomed = await startRecogniserServer({ transcriber: pocket, logger });
      extraServers.push(doomed);
      const audio = await spoken('please call me back tomorrow morning');
      const stream = client({ url: doomed.url, reconnectAttempts: 2 }).open();
      const events = record(stream);
      stream.write(audio.samples.subarray(0, 24000));
      await new Promise<void>((resolve) => stream.once('partial', () => resolve()));
      await doomed.close();
      await events.closed;
      expect(events.errors).toHaveLength(1);
      expect(events.errors[0]?.code).toBe('transcriber_failed');
      expect(events.closes).toBe(1);
      expect(stream.write(audio.samples)).toBe(false);
    });

    it('says transcriber_unavailable when nothing listens, after its attempts', async () => {
      const ports = new PortAllocator();
      const block = await ports.allocate(1, { protocols: ['tcp'], even: false });
      try {
        const events = record(
          client({ url: `ws://127.0.0.1:${block.base}/`, reconnectAttempts: 2 }).open(),
        );
        await events.closed;
        expect(events.errors.map((e) => e.code)).toEqual(['transcriber_unavailable']);
        expect(events.errors[0]?.detail).toMatch(/ECONNREFUSED/);
      } finally {
        ports.close();
      }
    });

    it('is refused with 401 without the token, and does not retry', async () => {
      const events = record(client({ token: 'wrong' }).open());
      await events.closed;
      expect(events.errors.map((e) => e.code)).toEqual(['transcriber_unavailable']);
      expect(events.errors[0]?.detail).toMatch(/HTTP 401/);
    });

    it('fails the stream on the recogniser’s error message (a sample rate it does not take)', async () => {
      const events = record(client({ sampleRate: 8000 }).open());
      events.closed.then(() => undefined);
      await events.closed;
      expect(events.errors.map((e) => e.code)).toEqual(['transcriber_failed']);
      expect(events.errors[0]?.detail).toMatch(/16000 Hz/);
    });

    it('fails the stream on a message outside the protocol', async () => {
      const http = createServer();
      const wss = new WebSocketServer({ server: http });
      wss.on('connection', (socket) => socket.send('{"type":"surprise"}'));
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      extraServers.push({
        close: () =>
          new Promise<void>(
            (r) => (wss.close(), http.close(() => r()), http.closeAllConnections()),
          ),
      });
      const events = record(
        client({ url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/` }).open(),
      );
      await events.closed;
      expect(events.errors.map((e) => e.code)).toEqual(['transcriber_failed']);
      expect(events.errors[0]?.detail).toMatch(/outside the protocol/);
    });

    it('finds a recogniser that stops answering pings, and gives up after its attempts', async () => {
      const http = createServer();
      const wss = new WebSocketServer({ server: http, autoPong: false });
      let connections = 0;
      wss.on('connection', () => (connections += 1));
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      extraServers.push({
        close: () =>
          new Promise<void>(
            (r) => (wss.close(), http.close(() => r()), http.closeAllConnections()),
          ),
      });
      const events = record(
        client({
          url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`,
          pingIntervalMs: 100,
          reconnectAttempts: 1,
        }).open(),
      );
      await events.closed;
      expect(connections).toBe(2);
      expect(events.errors.map((e) => e.code)).toEqual(['transcriber_failed']);
    });

    it('fails a stream whose recogniser never finishes after end, within endTimeoutMs', async () => {
      const http = createServer();
      const wss = new WebSocketServer({ server: http });
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      extraServers.push({
        close: () =>
          new Promise<void>(
            (r) => (wss.close(), http.close(() => r()), http.closeAllConnections()),
          ),
      });
      const stream = client({
        url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`,
        endTimeoutMs: 300,
      }).open();
      const events = record(stream);
      await new Promise<void>((resolve) => wss.once('connection', () => resolve()));
      stream.write(new Int16Array(3200));
      stream.end();
      await events.closed;
      expect(events.errors.map((e) => e.code)).toEqual(['transcriber_failed']);
      expect(events.errors[0]?.detail).toMatch(/no end of stream within 300 ms/);
      await expect.poll(() => wss.clients.size).toBe(0);
    });

    it('closes safely twice and leaves no connection open on the server', async () => {
      const c = client();
      const stream = c.open();
      const events = record(stream);
      stream.write(new Int16Array(3200));
      stream.close();
      stream.close();
      await c.close();
      await c.close();
      await events.closed;
      expect(events.closes).toBe(1);
      expect(events.errors).toEqual([]);
      await expect.poll(() => server.connections).toBe(0);
    });
  },
);
