/**
 * The background transcription of a flow run (TwiML's <Start><Transcription>):
 * started by a `transcribe` verb, it runs while the next verbs do (a record, a
 * dial) and stops at `transcribe { stop: true }` or when the flow ends. Its
 * partial and final results become `transcript.*` events.
 */
import type { FlowCall, Transcription, TranscriptionOptions } from '../ports.js';
import type { TranscribeResult } from '../verbs/results.js';
import type { EventBody } from './verb-context.js';
import { verbFailure } from './verb-error.js';

export class TranscriptionControl {
  readonly #call: FlowCall;
  readonly #emit: (event: EventBody) => void;
  #running: Transcription | undefined;
  #finals: string[] = [];

  constructor(call: FlowCall, emit: (event: EventBody) => void) {
    this.#call = call;
    this.#emit = emit;
  }

  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Starts one; a second start while one runs keeps the first. */
  start(options: TranscriptionOptions): TranscribeResult {
    if (this.#running) return { status: 'started' };
    const stream = this.#call.startTranscription(options);
    this.#running = stream;
    this.#finals = [];
    stream.on('partial', (p) => {
      if (options.partialResults)
        this.#emit({ type: 'transcript.partial', utterance: p.utterance, text: p.text });
    });
    stream.on('final', (f) => {
      if (f.text !== '') this.#finals.push(f.text);
      this.#emit({
        type: 'transcript.final',
        utterance: f.utterance,
        text: f.text,
        ...(f.confidence === undefined ? {} : { confidence: f.confidence }),
      });
    });
    stream.on('error', (error) =>
      this.#emit({ type: 'transcript.error', error: verbFailure(error) }),
    );
    stream.once('close', () => {
      if (this.#running === stream) this.#running = undefined;
    });
    return { status: 'started' };
  }

  /** Stops the running one (its last final comes first). */
  async stop(): Promise<TranscribeResult> {
    const stream = this.#running;
    if (!stream) return { status: 'not-running' };
    this.#running = undefined;
    await stream.stop();
    const text = this.#finals.join(' ');
    return { status: 'stopped', utterances: this.#finals.length, text };
  }
}
