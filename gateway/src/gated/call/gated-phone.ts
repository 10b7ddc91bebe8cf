/**
 * A call from the telephone network to a gated facility's DID (docs/gated.md,
 * "Phone callers"), as an application on the telephony core: it drives the
 * call only through the flows' `FlowCall` port (the gateway answers with
 * G.711, speaks with flite, reads RFC 4733 and SIP INFO keys), the way a flow
 * would, and asks the Gate at each step:
 *
 *   answer ─▶ authorize by the caller's number
 *     │ refused `caller_account`/`account_pin`: gather the account number and
 *     │   PIN (`#` ends each), authorize again, `attempts` times at most
 *     │   (each wrong one counts toward the Gate's lockout)
 *     │ refused `callee` with several approved residents: gather the resident's number
 *     ├ refused (anything else, or tries used up): `notAvailable`, hang up
 *     └ allowed: the devices ring ({@link GatedCall}) while the caller hears `pleaseWait`
 *
 * The caller never learns which check failed: the one prompt, whatever it was.
 */
import type { Call } from '../../calls/index.js';
import type { FlowCall, GateOptions, SpeechSynthesizer } from '../../flows/index.js';
import { DigitStream } from '../../flows/runtime/digits.js';
import type { Logger } from '../../observability/index.js';
import type { AuthorizeContext } from '../auth/authenticator.js';
import type { GateDecision } from '../decision.js';
import type { Gate } from '../gate.js';
import type { SpokenCaller } from './gated-call.js';

/** Silence after a prompt before a gather gives up, and between two keys. */
const FIRST_KEY_MS = 10_000;
const NEXT_KEY_MS = 5_000;
/** More keys than any account number or PIN has: stop reading. */
const MAX_KEYS = 20;

export interface GatedPhoneDeps {
  readonly gate: Gate;
  /** Account number + PIN pairs a caller may key in one call (`dtmfPinAttempts`). */
  readonly attempts: (tenant: string) => number;
  readonly logger: Logger;
  /** Silence before a gather gives up: after its prompt, and between keys (unit tests shorten it). */
  readonly keyTimeoutMs?: { readonly first: number; readonly next: number };
}

export class GatedPhoneCall implements SpokenCaller {
  readonly #deps: GatedPhoneDeps;
  readonly #call: Call;
  readonly #port: FlowCall;
  readonly #speech: SpeechSynthesizer;
  readonly #log: Logger;
  #digits: DigitStream | undefined;
  #speaking: AbortController | undefined;

  constructor(deps: GatedPhoneDeps, call: Call, port: FlowCall, speech: SpeechSynthesizer) {
    this.#deps = deps;
    this.#call = call;
    this.#port = port;
    this.#speech = speech;
    this.#log = deps.logger.child({ module: 'gated-phone', callId: call.id, tenant: call.tenant });
  }

  /**
   * Answers, identifies the caller's account and asks the Gate (for
   * `resident`, a resident's number, when the line is theirs: the caller is
   * not asked to choose; `typedAhead`, keys from before the `gate` verb, are
   * read first). Resolves with the allowed decision (the caller starts
   * hearing `pleaseWait`), or undefined when the call was refused (the caller
   * heard `notAvailable` and was hung up) or ended.
   */
  async authorize(options: GateOptions = {}): Promise<GateDecision | undefined> {
    const { gate } = this.#deps;
    const port = this.#port;
    const tenant = this.#call.tenant;
    // Listening before the answer: no key falls between the flow's stream and this one.
    this.#digits = new DigitStream(port, options.typedAhead);
    await port.answer();
    if (port.ended.aborted) {
      this.#digits.close();
      return undefined;
    }
    const base: AuthorizeContext = {
      callId: this.#call.id,
      tenant,
      channel: 'phone',
      callerNumber: port.context.from,
      ...(options.resident === undefined ? {} : { callee: { residentNumber: options.resident } }),
    };
    let context = base;
    let decision = await gate.authorize(context);
    let tries = 0;
    const attempts = this.#deps.attempts(tenant);
    while (!decision.allowed && !port.ended.aborted) {
      const failed = decision.failed;
      if ((failed === 'caller_account' || failed === 'account_pin') && tries < attempts) {
        // The number names no account (or a keyed pair was wrong): ask for the account.
        if (tries > 0) await this.speak(gate.prompt(tenant, 'residentWrongPin'), true);
        tries += 1;
        const number = await this.#gather(gate.prompt(tenant, 'enterAccountNumber'));
        if (number === undefined) break;
        const pin = await this.#gather(gate.prompt(tenant, 'enterAccountPin'));
        if (pin === undefined) break;
        context = { ...base, account: { number, pin } };
      } else if (failed === 'callee' && !context.callee && severalResidents(decision)) {
        const resident = await this.#gather(gate.prompt(tenant, 'chooseResident'));
        if (resident === undefined) break;
        context = { ...context, callee: { residentNumber: resident } };
      } else break;
      if (port.ended.aborted) break;
      decision = await gate.authorize(context);
    }
    this.#digits.close();
    if (port.ended.aborted) return undefined;
    if (!decision.allowed) {
      this.#log.info({ failed: decision.failed, tries }, 'gated phone call refused');
      gate.forget(this.#call.id);
      await this.speak(gate.prompt(tenant, 'notAvailable'));
      // Not `port.hangup`: the call was answered by the gateway, but never connected.
      this.#call.end({ outcome: 'failed', endedBy: 'gateway', reason: 'callee_not_available' });
      return undefined;
    }
    // Said while the devices ring (not before: ringing starts at once).
    void this.speak(gate.prompt(tenant, 'pleaseWait'));
    return decision;
  }

  /**
   * Speaks `text` to the caller (flite, cached); `interruptible`: a key stops
   * it (the key stays for the gather after it). A prompt that cannot be made
   * is logged: the call goes on.
   */
  async speak(text: string, interruptible = false): Promise<void> {
    const port = this.#port;
    if (port.ended.aborted) return;
    // One prompt at a time: a new one (a refusal after `pleaseWait`) cuts the one playing.
    this.#speaking?.abort();
    const stop = new AbortController();
    this.#speaking = stop;
    const onEnd = (): void => stop.abort();
    port.ended.addEventListener('abort', onEnd, { once: true });
    const unkey =
      interruptible && this.#digits ? this.#digits.onKey(() => stop.abort()) : undefined;
    try {
      const audio = await this.#speech.synthesize(text, undefined, stop.signal);
      await port.play(audio, { signal: stop.signal });
    } catch (error) {
      this.#log.warn({ err: error }, 'a prompt to the caller could not be played');
    } finally {
      unkey?.();
      port.ended.removeEventListener('abort', onEnd);
      if (this.#speaking === stop) this.#speaking = undefined;
    }
  }

  /**
   * Plays `prompt` (a key stops it and counts) and reads keys up to `#`.
   * Keys the caller typed ahead, during an earlier prompt, count. Undefined:
   * no key at all, or the call ended.
   */
  async #gather(prompt: string): Promise<string | undefined> {
    const digits = this.#digits;
    if (!digits) return undefined;
    if (digits.buffered.length === 0) await this.speak(prompt, true);
    let keys = '';
    while (keys.length < MAX_KEYS) {
      const { first, next } = this.#deps.keyTimeoutMs ?? { first: FIRST_KEY_MS, next: NEXT_KEY_MS };
      const key = await digits.next(keys === '' ? first : next, this.#port.ended);
      if (key === undefined) break;
      if (key === '#') return keys;
      keys += key;
    }
    return keys === '' || this.#port.ended.aborted ? undefined : keys;
  }
}

function severalResidents(decision: GateDecision): boolean {
  return decision.checks.some(
    (c) => c.name === 'callee' && !c.ok && /several/.test(c.detail ?? ''),
  );
}
