/**
 * Streaming speech to text on the caller's leg (the `Transcription` port):
 * the caller's direction fed from the media applications at the rate the
 * transcriber wants (pocketsphinx 16 kHz: from G.711 the feed adds weak noise
 * above 4 kHz, without which pocketsphinx recognises nothing of telephone
 * speech, see docs/speech.md) into one `TranscriberStream`, its partial and
 * final results re-emitted. A failing recogniser emits `error` then `close`;
 * the call goes on.
 */
import { EventEmitter } from 'node:events';
import type {
  Transcription,
  TranscriptionEvents,
  TranscriptionOptions,
} from '../../flows/ports.js';
import type { LegMedia, PcmFeed } from '../../media/apps/index.js';
import type { Transcriber, TranscriberStream } from '../../speech/index.js';

export class CallerTranscription
  extends EventEmitter<TranscriptionEvents>
  implements Transcription
{
  #stream: TranscriberStream | undefined;
  #feed: PcmFeed | undefined;
  #stopping = false;
  #closed = false;
  readonly #closedPromise: Promise<void>;

  constructor(
    transcriber: Transcriber,
    media: Promise<LegMedia>,
    options: TranscriptionOptions & { readonly id: string },
  ) {
    super();
    this.#closedPromise = new Promise((resolve) => this.once('close', () => resolve()));
    void media.then(
      (leg) => this.#start(transcriber, leg, options),
      (error: unknown) => this.#fail(error instanceof Error ? error : new Error(String(error))),
    );
  }

  stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#feed?.close();
      if (this.#stream) this.#stream.end();
      else this.#close();
    }
    return this.#closedPromise;
  }

  #start(
    transcriber: Transcriber,
    leg: LegMedia,
    options: TranscriptionOptions & { id: string },
  ): void {
    if (this.#stopping || this.#closed) return;
    const stream = transcriber.open({ id: options.id });
    this.#stream = stream;
    stream.on('partial', (p) => {
      if (options.partialResults) this.emit('partial', { utterance: p.utterance, text: p.text });
    });
    stream.on('final', (f) => {
      if (f.text === '') return; // speech that held no words
      this.emit('final', {
        utterance: f.utterance,
        text: f.text,
        ...(f.confidence !== undefined ? { confidence: f.confidence } : {}),
      });
    });
    stream.on('error', (error) => this.#error(error));
    stream.on('close', () => {
      this.#feed?.close();
      this.#close();
    });
    const feed = leg.feed({ sampleRate: stream.sampleRate, direction: 'in' });
    this.#feed = feed;
    feed.readable.on('data', (chunk: Buffer) => {
      // Chunks come from Int16Arrays (even offsets); copy one that is not aligned.
      const aligned = chunk.byteOffset % 2 === 0 ? chunk : Buffer.from(chunk);
      stream.write(new Int16Array(aligned.buffer, aligned.byteOffset, aligned.length >> 1));
    });
    feed.readable.on('end', () => stream.end());
  }

  #fail(error: Error): void {
    this.#error(error);
    this.#close();
  }

  #error(error: Error): void {
    // An unheard 'error' would throw: the flow may have stopped listening.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close');
  }
}
