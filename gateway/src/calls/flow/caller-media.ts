/**
 * The caller's leg as a flow hears and speaks on it: the media applications
 * attached once to the caller's transport (after the gateway answered it),
 * prompts played from the decoded-prompt cache, and key presses from RFC 4733
 * events and SIP INFO merged into one stream (each press once).
 */
import { EventEmitter } from 'node:events';
import { ParleyError } from '@parley/shared/errors';
import type { Audio, Digit } from '../../flows/ports.js';
import type { DecodedPrompts, LegMedia, MediaApps, PcmSource } from '../../media/apps/index.js';
import { pcmStream } from '../../media/apps/index.js';
import type { Call } from '../call.js';

const DIGITS = new Set('0123456789*#ABCD');

export class CallerMedia {
  readonly #call: Call;
  readonly #apps: MediaApps;
  readonly #prompts: DecodedPrompts;
  readonly #digits = new EventEmitter<{ digit: [Digit] }>();
  #media: Promise<LegMedia> | undefined;

  constructor(call: Call, apps: MediaApps, prompts: DecodedPrompts) {
    this.#call = call;
    this.#apps = apps;
    this.#prompts = prompts;
    this.#digits.setMaxListeners(0);
    // SIP INFO digits of the caller (in-dialog.ts reports them when the caller is joined to no one).
    call.on('dtmf', (digit, leg) => {
      if (leg !== call.caller) return;
      if (this.#media)
        void this.#media.then(
          (m) => m.dtmf.inject(digit, 160),
          () => undefined,
        );
      else this.#emit(digit);
    });
  }

  /** The applications on the caller's leg; the gateway must have answered it (183 or 200). */
  media(): Promise<LegMedia> {
    this.#media ??= this.#attach();
    return this.#media;
  }

  /** Whether the applications are attached (or being attached). */
  get attached(): boolean {
    return this.#media !== undefined;
  }

  onDigit(listener: (digit: Digit) => void): () => void {
    this.#digits.on('digit', listener);
    return () => this.#digits.off('digit', listener);
  }

  /** Plays on the caller's leg; rejects `prompt_unavailable` when the audio cannot be read. */
  async play(audio: Audio, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const source = await this.#source(audio);
    const media = await this.media();
    const result = await media.play(source, { signal });
    if (result.reason === 'error')
      throw new ParleyError('prompt_unavailable', result.error?.message ?? 'cannot play the audio');
  }

  async #attach(): Promise<LegMedia> {
    const call = this.#call;
    const codec = call.gatewayCodec;
    const transport = call.caller.media;
    const router = call.router;
    if (!codec || !transport || !router)
      throw new ParleyError('internal', 'the caller is not answered by the gateway');
    const media = await this.#apps.attach(router, transport, {
      codec: codec.codec,
      telephoneEvent: codec.telephoneEvent,
    });
    media.dtmf.on('digit', ({ digit }) => this.#emit(digit));
    return media;
  }

  #emit(digit: string): void {
    const d = digit.toUpperCase();
    if (DIGITS.has(d)) this.#digits.emit('digit', d as Digit);
  }

  async #source(audio: Audio): Promise<PcmSource> {
    try {
      switch (audio.kind) {
        case 'file':
          return await this.#prompts.file(audio.path);
        case 'wav':
          return this.#prompts.bytesSource(audio.data, audio.name);
        case 'pcm': {
          const { samples, sampleRate } = audio;
          return pcmStream('pcm', sampleRate, async function* () {
            yield samples;
          });
        }
      }
    } catch (error) {
      throw new ParleyError(
        'prompt_unavailable',
        `cannot read the audio: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
