/**
 * What a gated call says to its caller mid-call (the balance notices): on a
 * caller the gateway answered itself (a phone caller, `SpokenCaller`) through
 * its own leg's speech, else through a media application attached to the
 * caller's bridged leg (the application has the floor while it speaks; the
 * relay resumes by itself). One announcement at a time; a failure is
 * logged and the call goes on.
 */
import type { Call } from '../../calls/index.js';
import type { MediaApps } from '../../media/apps/index.js';
import type { Logger } from '../../observability/index.js';
import type { TextToSpeech } from '../../speech/index.js';
import { say } from './device-pin.js';

/**
 * A caller the gateway answered itself (a phone caller on a trunk DID,
 * `gated-phone.ts`): refusals and balance notices are spoken to it on its
 * own leg (the flows' media), and a refusal ends with a BYE, not a 480.
 */
export interface SpokenCaller {
  /** Speaks `text` to the caller; resolves when it was heard (or could not be played). */
  speak(text: string): Promise<void>;
}

export interface CallerAnnouncerOptions {
  readonly call: Call;
  readonly spoken: SpokenCaller | undefined;
  readonly mediaApps: MediaApps;
  readonly tts: TextToSpeech;
  readonly log: Logger;
  /** The call is over: nothing more is said. */
  readonly gone: () => boolean;
  /** The call is being refused: a spoken caller hears the refusal's prompt instead. */
  readonly refusing: () => boolean;
}

export class CallerAnnouncer {
  readonly #o: CallerAnnouncerOptions;
  #announcing = false;

  constructor(options: CallerAnnouncerOptions) {
    this.#o = options;
  }

  /** Speaks `text` to the caller; resolves when it was said (or skipped, or failed). */
  async announce(text: string): Promise<void> {
    const { spoken, gone, refusing } = this.#o;
    if (spoken) {
      if (gone() || refusing() || this.#announcing) return;
      this.#announcing = true;
      await spoken.speak(text).finally(() => {
        this.#announcing = false;
      });
      return;
    }
    const { caller, router } = this.#o.call;
    const codec = caller.codec;
    if (!router || !caller.media || !codec || gone() || this.#announcing) return;
    this.#announcing = true;
    try {
      const media = await this.#o.mediaApps.attach(router, caller.media, {
        codec: codec.codec,
        telephoneEvent: codec.telephoneEvent,
      });
      try {
        await say(media, this.#o.tts, text);
      } finally {
        media.close();
      }
    } catch (error) {
      this.#o.log.warn({ err: error }, 'the announcement to the caller could not be played');
    } finally {
      this.#announcing = false;
    }
  }
}
