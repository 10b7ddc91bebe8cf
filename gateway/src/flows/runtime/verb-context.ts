/**
 * What a verb runs with: the call, its key stream, the audio makers and the
 * background transcription, for one flow run. Built by the runner; each verb
 * is a function of its options and this context.
 */
import type { FlowEvent } from '@parley/shared/protocol';
import type { Audio, FlowCall, SpeechSynthesizer } from '../ports.js';
import type { WaitingQueues } from '../queue-port.js';
import type { DigitStream } from './digits.js';
import type { AudioRef, PromptLoader } from './prompts.js';
import type { TranscriptionControl } from './transcription-control.js';

/** An event without what the runner fills in (call, tenant, seq, time, flow). */
export type EventBody = FlowEvent extends infer E
  ? E extends FlowEvent
    ? Omit<E, 'callId' | 'tenant' | 'seq' | 'at' | 'flow'>
    : never
  : never;

export interface VerbContext {
  readonly call: FlowCall;
  readonly digits: DigitStream;
  /** Aborts when the call ends: every wait of a verb listens to it. */
  readonly signal: AbortSignal;
  readonly speech: SpeechSynthesizer;
  readonly prompts: PromptLoader;
  readonly transcription: TranscriptionControl;
  readonly queues: WaitingQueues | undefined;
  /** A new file for a recording of this call. */
  recordingPath(): string;
  /** Emits a live event (transcripts, queue positions) for this call. */
  emit(event: EventBody): void;
  /** The previous verb was a prompt interrupted by a key: that key is kept for a gather. */
  readonly typeAhead: boolean;
  now(): number;
}

/** Text to speech as Audio. */
export function sayAudio(
  ctx: VerbContext,
  text: string,
  voice: string | undefined,
): Promise<Audio> {
  return ctx.speech.synthesize(text, voice, ctx.signal);
}

export function playAudio(ctx: VerbContext, ref: AudioRef): Promise<Audio> {
  return ctx.prompts.load(ref, ctx.signal);
}

/** Sleeps `ms`, or less when `signal` aborts. Never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  // A zero sleep is no sleep (a timer would still cost the 1 ms Node gives setTimeout(0)).
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
