import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LegMedia } from '../../media/apps/index.js';
import type { Transcriber, TranscriberStream } from '../../speech/index.js';
import { CallerTranscription } from './transcription.js';

/** A recogniser's stream: what it was written, its results by hand. */
class FakeStream extends EventEmitter {
  readonly sampleRate = 16_000;
  readonly written: number[][] = [];
  ended = false;
  write(samples: Int16Array): boolean {
    this.written.push([...samples]);
    return true;
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
}

function transcriber(): Transcriber & { streams: FakeStream[]; ids: (string | undefined)[] } {
  const streams: FakeStream[] = [];
  const ids: (string | undefined)[] = [];
  return {
    engine: 'fake',
    sampleRate: 16_000,
    streamCount: 0,
    streams,
    ids,
    open: (options) => {
      ids.push(options?.id);
      const stream = new FakeStream();
      streams.push(stream);
      return stream as unknown as TranscriberStream;
    },
    close: () => Promise.resolve(),
  };
}

/** The caller's leg: one PCM feed, by hand. */
function leg() {
  const readable = new PassThrough();
  const state = { options: undefined as unknown, closed: false };
  const media = {
    feed: (options: unknown) => {
      state.options = options;
      return { readable, close: () => (state.closed = true) };
    },
  } as unknown as LegMedia;
  return { media, readable, state };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('CallerTranscription', () => {
  it('feeds the caller’s direction at the recogniser’s rate, as 16-bit samples', async () => {
    const t = transcriber();
    const l = leg();
    const tr = new CallerTranscription(t, Promise.resolve(l.media), {
      language: 'en-US',
      partialResults: true,
      id: 'call-1',
    });
    await flush();
    expect(t.ids).toEqual(['call-1']);
    expect(l.state.options).toEqual({ sampleRate: 16_000, direction: 'in' });
    const pcm = Buffer.alloc(6);
    pcm.writeInt16LE(1, 0);
    pcm.writeInt16LE(-2, 2);
    pcm.writeInt16LE(300, 4);
    l.readable.write(pcm);
    // A chunk at an odd offset is copied first (an Int16Array needs an even one).
    const odd = Buffer.alloc(5);
    odd.writeInt16LE(7, 1);
    odd.writeInt16LE(-8, 3);
    l.readable.write(odd.subarray(1));
    await flush();
    expect(t.streams[0]?.written).toEqual([
      [1, -2, 300],
      [7, -8],
    ]);
    const closed = new Promise((resolve) => tr.once('close', () => resolve(true)));
    l.readable.end();
    await flush();
    expect(t.streams[0]?.ended).toBe(true);
    expect(await closed).toBe(true);
  });

  it('re-emits partial results only when asked, and finals that hold words', async () => {
    const t = transcriber();
    const l = leg();
    const quiet = new CallerTranscription(t, Promise.resolve(l.media), {
      language: 'en-US',
      partialResults: false,
      id: 'c',
    });
    const heard: string[] = [];
    quiet.on('partial', (p) => heard.push(`partial ${p.text}`));
    quiet.on('final', (f) => heard.push(`final ${f.utterance} ${f.text} ${f.confidence}`));
    await flush();
    const stream = t.streams[0]!;
    stream.emit('partial', { utterance: 1, text: 'hel' });
    stream.emit('final', { utterance: 1, text: '' });
    stream.emit('final', { utterance: 2, text: 'hello there', confidence: 0.8 });
    expect(heard).toEqual(['final 2 hello there 0.8']);

    const live = new CallerTranscription(t, Promise.resolve(leg().media), {
      language: 'en-US',
      partialResults: true,
      id: 'd',
    });
    const partials: string[] = [];
    live.on('partial', (p) => partials.push(`${p.utterance}:${p.text}`));
    await flush();
    t.streams[1]!.emit('partial', { utterance: 1, text: 'hel' });
    expect(partials).toEqual(['1:hel']);
  });

  it('stop() ends the stream (its last final comes) and resolves on close; safe twice', async () => {
    const t = transcriber();
    const l = leg();
    const tr = new CallerTranscription(t, Promise.resolve(l.media), {
      language: 'en-US',
      partialResults: true,
      id: 'c',
    });
    await flush();
    await Promise.all([tr.stop(), tr.stop()]);
    expect(l.state.closed).toBe(true);
    expect(t.streams[0]?.ended).toBe(true);
  });

  it('stopped before the media is there: no stream is opened, close at once', async () => {
    const t = transcriber();
    let attach: (media: LegMedia) => void = () => undefined;
    const tr = new CallerTranscription(t, new Promise<LegMedia>((resolve) => (attach = resolve)), {
      language: 'en-US',
      partialResults: true,
      id: 'c',
    });
    await tr.stop();
    attach(leg().media);
    await flush();
    expect(t.streams).toEqual([]);
  });

  it('a recogniser error reaches a listener (unheard, nothing throws); media that fails closes it', async () => {
    const t = transcriber();
    const tr = new CallerTranscription(t, Promise.resolve(leg().media), {
      language: 'en-US',
      partialResults: true,
      id: 'c',
    });
    await flush();
    const errors: string[] = [];
    tr.on('error', (e) => errors.push(e.message));
    t.streams[0]!.emit('error', new Error('engine down'));
    expect(errors).toEqual(['engine down']);
    tr.removeAllListeners('error');
    t.streams[0]!.emit('error', new Error('again'));

    const failed = new CallerTranscription(t, Promise.reject(new Error('not answered')), {
      language: 'en-US',
      partialResults: true,
      id: 'e',
    });
    const seen: string[] = [];
    failed.on('error', (e) => seen.push(e.message));
    failed.on('close', () => seen.push('close'));
    await flush();
    expect(seen).toEqual(['not answered', 'close']);
  });
});
