/**
 * The gateway answering the caller's leg itself, before any agent
 * (`Call.answerCaller`): the codec it picked from the caller's offer, and how
 * far the answer went (180 or 183 with SDP, then 200). Kept apart from `Call`
 * so the call's class is about its legs; the call asks this object for the
 * codec (`codec`), which agents rung from then on are offered alone.
 */
import type { CallRecordKeeper, CallEnd } from './call-record.js';
import type { CallerAnswer } from './call-types.js';
import type { InboundLeg } from './inbound-leg.js';
import { pickCodec, type ChosenCodec } from './sdp-bridge.js';

export class GatewayAnswer {
  readonly #caller: InboundLeg;
  readonly #keeper: CallRecordKeeper;
  readonly #end: (how: CallEnd) => void;
  #codec: ChosenCodec | undefined;
  /** The early answer was a 180 with SDP (the caller's own ringback), not a 183. */
  #earlyRinging = false;
  /** The gateway's own media (queue music, a prompt) was heard since: no agent's early media is. */
  #gatewayHeard = false;
  /** The 180 became 183 (once). */
  #moved183 = false;

  constructor(caller: InboundLeg, keeper: CallRecordKeeper, end: (how: CallEnd) => void) {
    this.#caller = caller;
    this.#keeper = keeper;
    this.#end = end;
  }

  /** The codec the gateway answered the caller with, if it did. */
  get codec(): ChosenCodec | undefined {
    return this.#codec;
  }

  /**
   * An agent's early media may reach the caller: answered early in a 180
   * with SDP, not yet answered, and nothing of the gateway's (queue music,
   * a prompt) heard since. Still true after a first agent's early media: if
   * that agent fails, the next one's is bridged too (else silence).
   */
  get ringback(): boolean {
    return this.#earlyRinging && !this.#gatewayHeard && this.#caller.state === 'early';
  }

  /** An agent's early media reaches the caller now: its 180 becomes 183 (same SDP), once. */
  agentEarlyMedia(): void {
    if (!this.ringback) return;
    this.#to183();
  }

  /**
   * Answers (or moves an earlier answer on: 180 to 183, early to 200, same
   * SDP). False when the caller's leg is gone; an offer without the codec
   * ends the call (488 offer_required). The call checks it may answer first.
   */
  async answer(answer: CallerAnswer): Promise<boolean> {
    const caller = this.#caller;
    if (this.#codec && ['early', 'answered'].includes(caller.state)) {
      // Already answered by the gateway: early media becomes the answer with the same SDP.
      // A 180 with SDP (the caller's own ringback) becomes 183: the gateway's media is heard now.
      if (answer.early && !answer.ringing && this.#earlyRinging && caller.state === 'early') {
        this.#gatewayHeard = true;
        this.#to183();
      }
      if (!answer.early && caller.state === 'early') {
        caller.answer();
        this.#answered();
      }
      return !caller.ended;
    }
    // A browser answered already (an agent's early media, join-legs.ts) keeps that codec.
    const chosen = caller.fixedCodec ?? pickCodec(caller.offer, answer.codec);
    if (!chosen) {
      this.#end({ outcome: 'failed', endedBy: 'gateway', reason: 'offer_required', status: 488 });
      return false;
    }
    this.#codec = chosen;
    const how = answer.early ? (answer.ringing ? 'ringing' : 'early') : 'answer';
    this.#earlyRinging = how === 'ringing';
    if (!(await caller.answerWith(chosen, how))) return false;
    if (!answer.early) this.#answered();
    return true;
  }

  #to183(): void {
    if (this.#moved183) return;
    this.#moved183 = true;
    this.#caller.earlyMedia(183);
  }

  #answered(): void {
    this.#keeper.legsAnswered(this.#caller);
    this.#keeper.save();
  }
}
