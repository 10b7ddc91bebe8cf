/**
 * In-memory fakes of the flow ports, for unit tests of flows and queues (and
 * the runner benchmark): a call whose prompts, keys, recordings,
 * transcriptions and dials the test drives. Every action is also an event on
 * the fake, so a test waits for "the prompt started" instead of sleeping.
 * The real-peer tests (baresip, Chromium) use the real adapters instead.
 */
import { EventEmitter } from 'node:events';
import type { QueueStatus } from '@parley/shared/protocol';
import type {
  Audio,
  Bridge,
  DialAttempt,
  DialOptions,
  Digit,
  FlowCall,
  FlowCallContext,
  Recording,
  RecordingEvents,
  RecordingOptions,
  SpeechSynthesizer,
  Transcription,
  TranscriptionEvents,
  TranscriptionOptions,
} from '../ports.js';
import type { DialTarget } from '../verbs/schema.js';

export interface PlayRecord {
  readonly audio: Audio;
  readonly signal: AbortSignal;
  /** Ends the play as if all audio was sent (in `hold` mode). */
  finish(): void;
}

export interface FakeCallEvents {
  answer: [];
  play: [PlayRecord];
  dial: [DialTarget, DialOptions];
  /** After the verb that started it is listening to it. */
  recording: [FakeRecording];
  /** After the flow is listening to it. */
  transcription: [FakeTranscription];
  hangup: [string];
  visitor: [QueueStatus];
}

export function fakeContext(overrides: Partial<FlowCallContext> = {}): FlowCallContext {
  return {
    callId: overrides.callId ?? `call-${Math.random().toString(36).slice(2, 10)}`,
    tenant: 'acme',
    channel: 'phone',
    direction: 'inbound',
    from: '+14155550123',
    to: '+14155550100',
    sessionNumber: null,
    sessionId: null,
    queue: null,
    customerId: null,
    publicClaims: {},
    privateClaims: {},
    value: null,
    ...overrides,
  };
}

export class FakeRecording extends EventEmitter<RecordingEvents> implements Recording {
  frames = 0;
  stopped = false;
  constructor(readonly options: RecordingOptions) {
    super();
  }
  /** One 20 ms frame at this level (dBFS). */
  level(dbfs: number, frames = 1): void {
    for (let i = 0; i < frames; i += 1) {
      this.frames += 1;
      this.emit('level', dbfs);
    }
  }
  stop(): Promise<{ path: string; durationMs: number; bytes: number }> {
    this.stopped = true;
    return Promise.resolve({
      path: this.options.path,
      durationMs: this.frames * 20,
      bytes: 44 + this.frames * 320,
    });
  }
}

export class FakeTranscription extends EventEmitter<TranscriptionEvents> implements Transcription {
  stopped = false;
  constructor(readonly options: TranscriptionOptions) {
    super();
  }
  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.emit('close');
    }
    return Promise.resolve();
  }
}

/** A bridge the test ends. */
export function fakeBridge(
  answeredBy: string,
): Bridge & { end(by?: 'caller' | 'target' | 'gateway'): void; hungUp: string | undefined } {
  let end!: (how: { by: 'caller' | 'target' | 'gateway'; reason: string }) => void;
  const ended = new Promise<{ by: 'caller' | 'target' | 'gateway'; reason: string }>(
    (r) => (end = r),
  );
  const bridge = {
    answeredBy,
    ended,
    hungUp: undefined as string | undefined,
    hangup(reason: string) {
      bridge.hungUp = reason;
      end({ by: 'gateway', reason });
    },
    end(by: 'caller' | 'target' | 'gateway' = 'target') {
      end({ by, reason: 'completed' });
    },
  };
  return bridge;
}

export interface FakeCallOptions {
  readonly context?: Partial<FlowCallContext>;
  /**
   * `instant`: each play ends on the next turn of the event loop; `hold`:
   * only when aborted or finished; or a choice per audio (speech instant,
   * music held).
   */
  readonly playMode?: 'instant' | 'hold' | ((audio: Audio) => 'instant' | 'hold');
  /** Plays of these audios reject (an unreadable file). */
  readonly failPlay?: (audio: Audio) => boolean;
  /** startRecording rejects with this. */
  readonly recordingError?: Error;
  /** How dials go; default no-answer. */
  readonly dial?: (target: DialTarget, options: DialOptions) => Promise<DialAttempt>;
  /** A browser visitor: sendToVisitor exists. */
  readonly visitor?: boolean;
}

export class FakeCall extends EventEmitter<FakeCallEvents> implements FlowCall {
  readonly context: FlowCallContext;
  readonly #ended = new AbortController();
  answered = false;
  answers = 0;
  readonly plays: PlayRecord[] = [];
  readonly hangups: string[] = [];
  readonly visitorStatuses: QueueStatus[] = [];
  readonly dials: DialTarget[] = [];
  readonly recordings: FakeRecording[] = [];
  readonly transcriptions: FakeTranscription[] = [];
  readonly #digitListeners = new Set<(digit: Digit) => void>();
  readonly #options: FakeCallOptions;
  readonly sendToVisitor?: (status: QueueStatus) => void;

  constructor(options: FakeCallOptions = {}) {
    super();
    this.#options = options;
    this.context = fakeContext(options.context);
    if (options.visitor) {
      this.sendToVisitor = (status) => {
        this.visitorStatuses.push(status);
        this.emit('visitor', status);
      };
    }
  }

  get ended(): AbortSignal {
    return this.#ended.signal;
  }

  answer(): Promise<void> {
    this.answers += 1;
    if (!this.answered) {
      this.answered = true;
      this.emit('answer');
    }
    return Promise.resolve();
  }

  play(audio: Audio, options: { signal: AbortSignal }): Promise<void> {
    if (this.#options.failPlay?.(audio)) {
      return Promise.reject(
        Object.assign(new Error('cannot read the audio'), { code: 'prompt_unavailable' }),
      );
    }
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        options.signal.removeEventListener('abort', finish);
        resolve();
      };
      const record: PlayRecord = { audio, signal: options.signal, finish };
      this.plays.push(record);
      if (options.signal.aborted) return finish();
      options.signal.addEventListener('abort', finish, { once: true });
      const mode = this.#options.playMode ?? 'instant';
      if ((typeof mode === 'function' ? mode(audio) : mode) === 'instant') setImmediate(finish);
      this.emit('play', record);
    });
  }

  onDigit(listener: (digit: Digit) => void): () => void {
    this.#digitListeners.add(listener);
    return () => this.#digitListeners.delete(listener);
  }

  /** The caller presses keys, one after the other. */
  press(keys: string): void {
    for (const key of keys)
      for (const listener of [...this.#digitListeners]) listener(key as Digit);
  }

  startRecording(options: RecordingOptions): Promise<Recording> {
    if (this.#options.recordingError) return Promise.reject(this.#options.recordingError);
    const recording = new FakeRecording(options);
    this.recordings.push(recording);
    // On a later turn: the verb attaches its listeners when the promise resolves.
    setImmediate(() => this.emit('recording', recording));
    return Promise.resolve(recording);
  }

  startTranscription(options: TranscriptionOptions): Transcription {
    const t = new FakeTranscription(options);
    this.transcriptions.push(t);
    setImmediate(() => this.emit('transcription', t));
    return t;
  }

  dial(target: DialTarget, options: DialOptions): Promise<DialAttempt> {
    this.dials.push(target);
    this.emit('dial', target, options);
    return this.#options.dial
      ? this.#options.dial(target, options)
      : Promise.resolve({ status: 'no-answer' });
  }

  hangup(reason: string): Promise<void> {
    if (!this.#ended.signal.aborted) {
      this.hangups.push(reason);
      this.emit('hangup', reason);
      this.#ended.abort();
    }
    return Promise.resolve();
  }

  /** The caller hangs up. */
  callerHangsUp(): void {
    this.#ended.abort();
  }
}

/** Speech that makes a short buffer per text; `fail` makes it reject for texts that match. */
export class FakeSpeech implements SpeechSynthesizer {
  readonly spoken: string[] = [];
  readonly #texts = new WeakMap<Audio, string>();
  readonly #fail: ((text: string) => boolean) | undefined;

  constructor(fail?: (text: string) => boolean) {
    this.#fail = fail;
  }

  synthesize(text: string): Promise<Audio> {
    if (this.#fail?.(text))
      return Promise.reject(
        Object.assign(new Error('flite failed'), { code: 'prompt_unavailable' }),
      );
    this.spoken.push(text);
    const audio: Audio = { kind: 'pcm', samples: new Int16Array(160), sampleRate: 8000 };
    this.#texts.set(audio, text);
    return Promise.resolve(audio);
  }

  /** The text an audio was made from; undefined for audio that is not speech (music, a beep, a file). */
  textOf(audio: Audio): string | undefined {
    return this.#texts.get(audio);
  }
}
