/**
 * Messages between the gateway and a pocketsphinx host process, over Node's
 * IPC channel with `serialization: 'advanced'` (structured clone: PCM goes
 * as an Int16Array, no base64). Order is kept by the channel, so the gateway
 * sends `init`, `open` and the first audio without waiting for `ready`.
 */
import type { FinalResult, PartialResult } from '../transcriber.js';

export interface HostConfig {
  /** Acoustic model directory, pronunciation dictionary, language model. */
  readonly hmm: string;
  readonly dict: string;
  readonly lm: string;
  readonly sampleRate: number;
  readonly partialIntervalMs: number;
  readonly maxUtteranceMs: number;
  /** Silence that ends an utterance (`-vad_postspeech`, in 10 ms frames). */
  readonly endSilenceMs: number;
  /** Decoders kept loaded between streams (creating one takes ~250 ms). */
  readonly idleDecoders: number;
  /** pocketsphinx's second pass (`-fwdflat`) at each utterance's end: fewer errors, a longer final. */
  readonly secondPass: boolean;
}

export type HostRequest =
  | { readonly t: 'init'; readonly config: HostConfig }
  | { readonly t: 'open'; readonly id: number }
  | { readonly t: 'audio'; readonly id: number; readonly pcm: Int16Array }
  | { readonly t: 'end'; readonly id: number }
  | { readonly t: 'close'; readonly id: number }
  | { readonly t: 'shutdown' };

export type HostReply =
  | { readonly t: 'ready'; readonly pid: number }
  /** The host cannot run (libraries or models missing); it exits. */
  | { readonly t: 'fatal'; readonly message: string }
  | { readonly t: 'partial'; readonly id: number; readonly result: PartialResult }
  | { readonly t: 'final'; readonly id: number; readonly result: FinalResult }
  /** After `end`: every final is out. */
  | { readonly t: 'ended'; readonly id: number }
  /** This stream's decoder failed; the host goes on with the others. */
  | { readonly t: 'error'; readonly id: number; readonly message: string };
