/**
 * One voicemail message on one leg's media applications, knowing nothing of
 * calls (so a flow's `voicemail` verb can run it on any leg): the greeting
 * (spoken by the TTS engine or a WAV file), a beep, then the recording of
 * what the caller says (`in`, a crash-safe WAV) until they hang up, press a
 * finishing key, stay silent, reach the maximum length, or `stop()` is
 * called (an agent takes the call). While it records, a transcriber stream
 * gets the caller's audio: `partial` and `final` events as words arrive.
 *
 *   greeting ──▶ recording ──▶ transcribing (last final) ──▶ ended
 *       └──────── caller gone before the beep: ended `abandoned`
 */
import { EventEmitter } from 'node:events';
import type { VoicemailSettings } from '../config/voicemail.js';
import type { Digit, LegMedia, PcmSource, RecordEndReason } from '../media/apps/index.js';
import { beep, wavFile } from '../media/apps/index.js';
import type { Logger } from '../observability/index.js';
import type { TextToSpeech, Transcriber, TranscriberStream } from '../speech/index.js';

export type MessageEndReason =
  'hangup' | 'key' | 'silence' | 'max-length' | 'stopped' | 'taken' | 'error';

export interface MessageResult {
  /** False when the caller went away before the recording started (nothing kept). */
  readonly recorded: boolean;
  readonly reason: MessageEndReason;
  readonly durationMs: number;
  /** Why no (or only part of a) transcript: the recogniser's error. */
  readonly transcriptError?: string;
}

export interface MessageEvents {
  /** The beep ended: the caller is being recorded into `file`. */
  recording: [];
  /**
   * The recording ended and its file is closed; the transcript's last final
   * may still come (`ended` waits for it). A take-over bridges the caller
   * here: waiting for the recogniser cost 1.4-2.1 s of silence (bench/src/voicemail.ts).
   */
  recorded: [];
  partial: [utterance: number, text: string];
  final: [utterance: number, text: string, startMs: number, endMs: number];
  transcriptError: [message: string];
  ended: [MessageResult];
}

export interface MessageDeps {
  readonly leg: LegMedia;
  readonly settings: VoicemailSettings;
  readonly tts: TextToSpeech;
  /** Without one (or `settings.transcribe` false) nothing is transcribed. */
  readonly transcriber?: Transcriber | undefined;
  /** Where the caller's voice is written (WAV, the codec's rate). */
  readonly file: string;
  readonly logger: Logger;
}

const RECORD_END: Record<RecordEndReason, MessageEndReason> = {
  stopped: 'stopped',
  aborted: 'key',
  'max-duration': 'max-length',
  silence: 'silence',
  closed: 'hangup',
  error: 'error',
};

export class VoicemailMessage extends EventEmitter<MessageEvents> {
  readonly #deps: MessageDeps;
  readonly #stop = new AbortController();
  #stopReason: MessageEndReason | undefined;
  #stream: TranscriberStream | undefined;
  #transcriptError: string | undefined;
  #started = false;

  constructor(deps: MessageDeps) {
    super();
    this.#deps = deps;
  }

  /** Plays the greeting and records; resolves once, with the result (never rejects). */
  run(): Promise<MessageResult> {
    if (this.#started) throw new Error('a voicemail message runs once');
    this.#started = true;
    return this.#run().then(
      (result) => {
        this.emit('ended', result);
        return result;
      },
      (error: unknown) => {
        this.#deps.logger.error({ err: error }, 'voicemail failed');
        const result: MessageResult = { recorded: false, reason: 'error', durationMs: 0 };
        this.emit('ended', result);
        return result;
      },
    );
  }

  /** Ends the greeting or the recording now (an agent takes the call); what was said is kept. */
  stop(reason: MessageEndReason = 'stopped'): void {
    this.#stopReason ??= reason;
    this.#stop.abort();
  }

  async #run(): Promise<MessageResult> {
    const { leg, settings, logger } = this.#deps;
    const signal = this.#stop.signal;
    const greeting = await leg.play(this.#greeting(), { signal });
    if (greeting.reason === 'error') logger.warn('voicemail greeting could not be played');
    if (leg.closed) return { recorded: false, reason: 'hangup', durationMs: 0 };
    if (signal.aborted)
      return { recorded: false, reason: this.#stopReason ?? 'stopped', durationMs: 0 };
    if (settings.beep) await leg.play(beep(), { signal });
    if (leg.closed) return { recorded: false, reason: 'hangup', durationMs: 0 };
    if (signal.aborted)
      return { recorded: false, reason: this.#stopReason ?? 'stopped', durationMs: 0 };

    const keys = new AbortController();
    const onDigit = ({ digit }: Digit) => {
      if (settings.finishOnKeys.includes(digit)) keys.abort();
    };
    leg.dtmf.on('digit', onDigit);
    const onStop = () => void recorder.stop();
    const recorder = leg.record({
      files: { in: this.#deps.file },
      maxDurationMs: settings.maxSeconds * 1000,
      ...(settings.silenceSeconds > 0
        ? { endOnSilence: { afterMs: settings.silenceSeconds * 1000 } }
        : {}),
      signal: keys.signal,
    });
    signal.addEventListener('abort', onStop, { once: true });
    this.emit('recording');
    this.#transcribe();
    const recorded = await recorder.done;
    signal.removeEventListener('abort', onStop);
    leg.dtmf.off('digit', onDigit);
    // Ends the transcriber's input at once (before its first await), then waits for its last final.
    const transcript = this.#endTranscript();
    this.emit('recorded');
    await transcript;
    // Nobody stopped the message but its leg closed under the recorder: the caller hung up
    // (a browser caller's leg stops its recorders as it closes; a SIP caller's endpoint says `closed`).
    const reason =
      recorded.reason === 'stopped'
        ? (this.#stopReason ?? (leg.closed ? 'hangup' : 'stopped'))
        : RECORD_END[recorded.reason];
    if (recorded.error) logger.error({ err: recorded.error }, 'voicemail recording failed');
    return {
      recorded: true,
      reason,
      durationMs: recorded.durationMs,
      ...(this.#transcriptError ? { transcriptError: this.#transcriptError } : {}),
    };
  }

  #greeting(): PcmSource | Promise<PcmSource> {
    const { greeting } = this.#deps.settings;
    if ('wav' in greeting) return wavFile(greeting.wav);
    return this.#deps.tts
      .synthesize(greeting.say, {
        sampleRate: 8000,
        ...(greeting.voice ? { voice: greeting.voice } : {}),
        signal: this.#stop.signal,
      })
      .then((audio) => wavFile(audio.path));
  }

  /** A stream fed from the leg's feed at the transcriber's rate, events passed on. */
  #transcribe(): void {
    const { transcriber, settings, leg } = this.#deps;
    if (!transcriber || !settings.transcribe) return;
    const stream = transcriber.open();
    this.#stream = stream;
    const feed = leg.feed({ sampleRate: transcriber.sampleRate });
    feed.readable.on('data', (chunk: Buffer) => {
      // s16le bytes → samples (copied: the chunk's offset may be odd within its pool).
      const samples = new Int16Array(chunk.length >> 1);
      for (let i = 0; i < samples.length; i += 1) samples[i] = chunk.readInt16LE(i * 2);
      stream.write(samples);
    });
    stream.on('partial', (p) => this.emit('partial', p.utterance, p.text));
    stream.on('final', (f) => {
      if (f.text) this.emit('final', f.utterance, f.text, f.startMs, f.endMs);
    });
    stream.on('error', (error) => {
      this.#transcriptError = `${error.code}: ${error.message}`;
      this.emit('transcriptError', this.#transcriptError);
    });
    stream.once('close', () => feed.close());
  }

  /**
   * The recording ended: the last utterance's final, or its absence. Bounded
   * by the stream's own end timeout (`speech.endTimeoutMs`), which fails the
   * stream (a `transcriptError`) when the engine does not flush in time: a
   * second, shorter timer here cut slow flushes on a loaded machine and lost
   * the message's transcript without saying so.
   */
  async #endTranscript(): Promise<void> {
    const stream = this.#stream;
    if (!stream || stream.state === 'closed') return;
    const closed = new Promise<void>((resolve) => stream.once('close', resolve));
    stream.end();
    await closed;
  }
}
