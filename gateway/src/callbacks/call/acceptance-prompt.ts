/**
 * What the customer hears of a callback before the advertiser is called: the
 * acceptance prompt and its key ("1" yes, "2" no), and the short messages
 * said afterwards (declined, apology). Flite speaks them at 8 kHz.
 */
import type { OutboundLeg } from '../../calls/index.js';
import type { CallbacksConfig } from '../../config/callbacks.js';
import { wavFile, type LegMedia } from '../../media/apps/index.js';
import { LOST_END_MS } from '../../media/apps/dtmf-listener.js';
import type { Logger } from '../../observability/index.js';
import type { TextToSpeech } from '../../speech/index.js';
import type { AttemptLog } from '../attempt-log.js';

export const DECLINE = '2';
export const ACCEPT = '1';

export interface PromptDeps {
  readonly tts: TextToSpeech;
  readonly config: CallbacksConfig;
  readonly logger: Logger;
}

/**
 * The acceptance prompt, said up to `repeat` times, then `keyTimeoutSeconds`
 * for a key. A key going down stops the prompt at once; the first 1 or 2
 * decides (other keys are ignored) and is written to `log`. `hung_up` when the
 * customer left or the attempt was stopped (`signal`).
 */
export async function askForKey(
  deps: PromptDeps,
  customer: OutboundLeg,
  media: LegMedia,
  options: {
    readonly advertiserName: string;
    readonly log: AttemptLog;
    readonly signal: AbortSignal;
  },
): Promise<string | undefined | 'hung_up'> {
  const { config } = deps;
  const { log, signal } = options;
  const stop = new AbortController();
  let key: string | undefined;
  let pressed: () => void = () => undefined;
  const keyed = new Promise<void>((resolve) => (pressed = resolve));
  const onKeyDown = ({ digit }: { digit: string }) => {
    if (digit === ACCEPT || digit === DECLINE) stop.abort('key');
  };
  const onDigit = (d: { digit: string; source: 'rfc4733' | 'info'; at: number }) => {
    if (key !== undefined || (d.digit !== ACCEPT && d.digit !== DECLINE)) return;
    key = d.digit;
    log.key = d.digit;
    log.keyAt = d.at;
    log.keySource = d.source;
    stop.abort('key');
    pressed();
  };
  const onEnd = () => {
    stop.abort('hung_up');
    pressed();
  };
  media.dtmf.on('keydown', onKeyDown);
  media.dtmf.on('digit', onDigit);
  customer.once('ended', onEnd);
  signal.addEventListener('abort', onEnd, { once: true });
  try {
    const text = config.prompt.text.replaceAll('{advertiser}', options.advertiserName);
    const audio = await deps.tts.synthesize(text, {
      ...(config.prompt.voice ? { voice: config.prompt.voice } : {}),
      sampleRate: 8000,
      signal: stop.signal,
    });
    for (let i = 0; i < config.prompt.repeat && !stop.signal.aborted; i += 1)
      await media.play(wavFile(audio.path), { signal: stop.signal });
  } catch (error) {
    if (!stop.signal.aborted) deps.logger.warn({ err: error }, 'the prompt could not be said');
  }
  // After the prompt: the time for a key. A key already going down (keydown)
  // is reported on its release, or LOST_END_MS later when its end packets are lost.
  const wait =
    stop.signal.aborted && key === undefined && stop.signal.reason === 'key'
      ? LOST_END_MS + 200
      : stop.signal.aborted
        ? 0
        : config.prompt.keyTimeoutSeconds * 1000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([keyed, new Promise<void>((resolve) => (timer = setTimeout(resolve, wait)))]);
  clearTimeout(timer);
  media.dtmf.off('keydown', onKeyDown);
  media.dtmf.off('digit', onDigit);
  customer.off('ended', onEnd);
  signal.removeEventListener('abort', onEnd);
  if (customer.ended || signal.aborted) return 'hung_up';
  return key;
}

/** Says `text` to the customer (to its end, or until they hang up or `signal` stops it). */
export async function say(
  deps: PromptDeps,
  media: LegMedia,
  text: string,
  signal: AbortSignal,
): Promise<void> {
  const { config } = deps;
  try {
    const audio = await deps.tts.synthesize(text, {
      ...(config.prompt.voice ? { voice: config.prompt.voice } : {}),
      sampleRate: 8000,
      signal,
    });
    await media.play(wavFile(audio.path), { signal });
  } catch (error) {
    deps.logger.warn({ err: error }, 'a message could not be said');
  }
}
