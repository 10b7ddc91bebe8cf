/**
 * The PIN of a resident on a plain SIP phone (docs/gated.md, step 4): once
 * the phone answered, the gateway speaks to it (`residentIncoming`, then
 * `residentEnterPin`, flite), gathers the keyed digits up to `#` (RFC 4733,
 * or SIP INFO injected by the call), and asks the Gate to re-verify them,
 * `attempts` times at most (`residentWrongPin` between tries).
 */
import type { Call, OutboundLeg } from '../../calls/index.js';
import type { Logger } from '../../observability/index.js';
import type { LegMedia, MediaApps } from '../../media/apps/index.js';
import { wavFile, type Digit } from '../../media/apps/index.js';
import type { TextToSpeech } from '../../speech/index.js';
import type { GateDecision } from '../decision.js';
import type { Gate } from '../gate.js';

/** How long the phone may stay silent after a prompt, and between two keys. */
const FIRST_DIGIT_MS = 10_000;
const NEXT_DIGIT_MS = 5_000;
/** More keys than any PIN has (the configured maximum is 12): stop listening. */
const MAX_DIGITS = 16;

export interface DevicePinPrompts {
  readonly incoming: string;
  readonly enterPin: string;
  readonly wrongPin: string;
}

export interface DevicePinOptions {
  readonly media: LegMedia;
  readonly tts: TextToSpeech;
  readonly prompts: DevicePinPrompts;
  readonly attempts: number;
  /** The Gate's re-verification of one PIN. */
  readonly verify: (pin: string) => Promise<GateDecision>;
  /** The call ended meanwhile. */
  readonly gone: () => boolean;
  readonly log: Logger;
}

export interface PhonePinOptions {
  readonly call: Call;
  /** The phone's leg, just answered (its media not taken yet: `acceptAnswer`). */
  readonly leg: OutboundLeg;
  readonly gate: Gate;
  readonly mediaApps: MediaApps;
  readonly tts: TextToSpeech;
  /** The device's address. */
  readonly device: string;
  /** The name the phone is told (`residentIncoming`'s `{caller}`). */
  readonly callerName: string;
  readonly attempts: number;
  readonly gone: () => boolean;
  readonly log: Logger;
}

/**
 * A SIP phone answered a gated call: the gateway's own media on its leg asks
 * for the PIN and the Gate re-verifies it. Undefined when the call ended first.
 */
export async function phonePin(options: PhonePinOptions): Promise<GateDecision | undefined> {
  const { call, leg, gate, tts } = options;
  const router = call.router;
  await leg.acceptAnswer();
  const codec = leg.codec;
  if (!router || !leg.media || !codec || options.gone()) return undefined;
  const media = await options.mediaApps.attach(router, leg.media, {
    codec: codec.codec,
    telephoneEvent: codec.telephoneEvent,
  });
  // Digits a phone sends by SIP INFO reach the call (its legs are joined to no other yet).
  const onInfo = (digit: string, from: unknown): void => {
    if (from === leg) media.dtmf.inject(digit, 100);
  };
  call.on('dtmf', onInfo);
  const tenant = call.tenant;
  try {
    return await collectDevicePin({
      media,
      tts,
      prompts: {
        incoming: gate.prompt(tenant, 'residentIncoming', { caller: options.callerName }),
        enterPin: gate.prompt(tenant, 'residentEnterPin'),
        wrongPin: gate.prompt(tenant, 'residentWrongPin'),
      },
      attempts: options.attempts,
      verify: (pin) => gate.reverify(call.id, { device: options.device, pin }),
      gone: options.gone,
      log: options.log,
    });
  } finally {
    call.off('dtmf', onInfo);
    // The transport is bridged next: the gateway's own endpoint on it goes first.
    media.close();
  }
}

/** Speaks `text` on the leg (synthesised once, cached); stops when `signal` aborts. */
export async function say(
  media: LegMedia,
  tts: TextToSpeech,
  text: string,
  signal?: AbortSignal,
): Promise<void> {
  const audio = await tts.synthesize(text, { sampleRate: 8000, ...(signal ? { signal } : {}) });
  if (signal?.aborted || media.closed) return;
  await media.play(wavFile(audio.path), signal ? { signal } : {});
}

/**
 * Asks for the PIN until the Gate allows one, refuses for good (a lockout,
 * the call no longer pending) or the tries are used up. Undefined when the
 * call ended first.
 */
export async function collectDevicePin(
  options: DevicePinOptions,
): Promise<GateDecision | undefined> {
  const { media, tts, prompts, log } = options;
  let last: GateDecision | undefined;
  for (let attempt = 0; attempt < options.attempts; attempt += 1) {
    const prompt =
      attempt === 0
        ? `${prompts.incoming} ${prompts.enterPin}`
        : `${prompts.wrongPin} ${prompts.enterPin}`;
    const pin = await gather(media, (signal) => say(media, tts, prompt, signal), log);
    if (options.gone() || media.closed) return undefined;
    last = await options.verify(pin);
    if (last.allowed) return last;
    // A lockout or a call the Gate no longer holds: another try cannot succeed.
    if (last.failed === 'pin_lockout' || last.failed === 'pending_call') return last;
  }
  return last;
}

/** Plays the prompt (a key stops it) and resolves with the keys pressed before `#` or silence. */
function gather(
  media: LegMedia,
  prompt: (signal: AbortSignal) => Promise<void>,
  log: Logger,
): Promise<string> {
  return new Promise((resolve) => {
    const stopPrompt = new AbortController();
    let digits = '';
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stopPrompt.abort();
      media.dtmf.off('digit', onDigit);
      resolve(digits);
    };
    const wait = (ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(finish, ms);
    };
    const onDigit = ({ digit }: Digit): void => {
      stopPrompt.abort();
      if (digit === '#') return finish();
      digits += digit;
      if (digits.length >= MAX_DIGITS) return finish();
      wait(NEXT_DIGIT_MS);
    };
    media.dtmf.on('digit', onDigit);
    prompt(stopPrompt.signal).then(
      () => {
        if (!done && digits === '') wait(FIRST_DIGIT_MS);
      },
      (error: unknown) => {
        log.warn({ err: error }, 'the PIN prompt could not be played');
        if (!done && digits === '') wait(FIRST_DIGIT_MS);
      },
    );
  });
}
