/**
 * One pocketsphinx decoder fed continuously: utterances are cut by the
 * recogniser's own voice activity detector (`ps_get_in_speech`), a partial
 * hypothesis is read every `partialIntervalMs` of audio while an utterance
 * runs, and `ps_end_utt` (second pass and best path, whose lattice gives word
 * posteriors) makes the final. Runs in the host process only.
 */
import type { FinalResult, PartialResult, WordTiming } from '../transcriber.js';
import type { PocketsphinxLib, Pointer, RawSegment } from './bindings.js';

export interface StreamDecoderOptions {
  readonly sampleRate: number;
  /** Audio between two partial hypotheses (reading one walks the whole utterance). */
  readonly partialIntervalMs: number;
  /** An utterance this long is ended even while the speaker goes on (bounds the search). */
  readonly maxUtteranceMs: number;
}

export interface DecoderSink {
  partial(result: PartialResult): void;
  final(result: FinalResult): void;
}

/** The VAD's decisions are per 10 ms frame; 20 ms pieces keep a transition from hiding inside one call. */
const MAX_PIECE_MS = 20;
const FRAME_MS = 10;

export class StreamDecoder {
  readonly #lib: PocketsphinxLib;
  readonly #decoder: Pointer;
  readonly #options: StreamDecoderOptions;
  readonly #maxPiece: number;
  #samples = 0;
  #utterance = 0;
  #inUtterance = false;
  #utteranceStartSamples = 0;
  #lastPartialSamples = 0;
  #lastPartial = '';
  #running = false;

  constructor(lib: PocketsphinxLib, decoder: Pointer, options: StreamDecoderOptions) {
    this.#lib = lib;
    this.#decoder = decoder;
    this.#options = options;
    this.#maxPiece = (options.sampleRate * MAX_PIECE_MS) / 1000;
  }

  get decoder(): Pointer {
    return this.#decoder;
  }

  /** A new stream: frame numbers count from here. */
  start(): void {
    this.#check(this.#lib.startStream(this.#decoder), 'ps_start_stream');
    this.#check(this.#lib.startUtterance(this.#decoder), 'ps_start_utt');
    this.#running = true;
  }

  process(samples: Int16Array, sink: DecoderSink): void {
    for (let offset = 0; offset < samples.length; offset += this.#maxPiece) {
      this.#processPiece(samples.subarray(offset, offset + this.#maxPiece), sink);
    }
  }

  /** End of audio: the running utterance's final (if it held speech); the decoder is then idle. */
  finish(sink: DecoderSink): void {
    if (!this.#running) return;
    if (this.#inUtterance) this.#endUtterance(sink, false);
    else this.#lib.endUtterance(this.#decoder);
    this.#running = false;
  }

  /** Stops without results. */
  abort(): void {
    if (!this.#running) return;
    this.#lib.endUtterance(this.#decoder);
    this.#running = false;
  }

  #processPiece(piece: Int16Array, sink: DecoderSink): void {
    if (this.#lib.processRaw(this.#decoder, piece) < 0) throw new Error('ps_process_raw failed');
    this.#samples += piece.length;
    const speech = this.#lib.inSpeech(this.#decoder);
    if (speech && !this.#inUtterance) {
      this.#inUtterance = true;
      this.#utteranceStartSamples = this.#samples;
      this.#lastPartialSamples = this.#samples;
    }
    if (!this.#inUtterance) return;
    const elapsedMs = this.#ms(this.#samples - this.#utteranceStartSamples);
    if (!speech || elapsedMs >= this.#options.maxUtteranceMs) {
      this.#endUtterance(sink, true);
      return;
    }
    if (this.#ms(this.#samples - this.#lastPartialSamples) >= this.#options.partialIntervalMs) {
      this.#lastPartialSamples = this.#samples;
      const text = normalise(this.#lib.hypothesis(this.#decoder) ?? '');
      if (text !== '' && text !== this.#lastPartial) {
        this.#lastPartial = text;
        sink.partial({ utterance: this.#utterance, text, audioMs: this.#ms(this.#samples) });
      }
    }
  }

  #endUtterance(sink: DecoderSink, restart: boolean): void {
    this.#check(this.#lib.endUtterance(this.#decoder), 'ps_end_utt');
    const words = this.#lib.segments(this.#decoder).filter(isWord).map(toWord);
    const shownPartial = this.#lastPartial !== '';
    if (words.length > 0 || shownPartial) {
      const startMs = words[0]?.startMs ?? this.#ms(this.#utteranceStartSamples);
      const confidences = words.map((w) => w.confidence ?? 0);
      sink.final({
        utterance: this.#utterance,
        text: words.map((w) => w.word).join(' '),
        startMs,
        endMs: words.at(-1)?.endMs ?? startMs,
        ...(confidences.length > 0
          ? { confidence: round(confidences.reduce((a, b) => a + b, 0) / confidences.length) }
          : {}),
        words,
      });
      this.#utterance += 1;
    }
    this.#inUtterance = false;
    this.#lastPartial = '';
    if (restart) this.#check(this.#lib.startUtterance(this.#decoder), 'ps_start_utt');
  }

  #ms(samples: number): number {
    return Math.round((samples * 1000) / this.#options.sampleRate);
  }

  #check(status: number, what: string): void {
    if (status < 0) throw new Error(`${what} failed (${status})`);
  }
}

/** `<s>`, `</s>`, `<sil>`, `[NOISE]`, `[SPEECH]`, `++GARBAGE++`: the search's fillers, not words. */
function isWord(segment: RawSegment): boolean {
  return !/^(<.*>|\[.*\]|\+\+.*\+\+)$/.test(segment.word);
}

function toWord(segment: RawSegment): WordTiming {
  return {
    word: baseWord(segment.word),
    startMs: segment.startFrame * FRAME_MS,
    endMs: (segment.endFrame + 1) * FRAME_MS,
    confidence: round(Math.min(1, Math.max(0, segment.posterior))),
  };
}

/** `tomorrow(2)` is the dictionary's second pronunciation of `tomorrow`. */
function baseWord(word: string): string {
  return word.replace(/\(\d+\)$/, '');
}

function normalise(hypothesis: string): string {
  return hypothesis.split(/\s+/).filter(Boolean).map(baseWord).join(' ');
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
