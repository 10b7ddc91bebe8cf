/**
 * The gateway answering the caller's leg itself, before any agent
 * (`Call.answerCaller`): the codec it picked from the caller's offer, and how
 * far the answer went (180 or 183 with SDP, then 200). Kept apart from `Call`
 * so the call's class is about its legs; the call asks this object for the
 * codec (`codec`), which agents rung from then on are offered alone.
 *
 * The codec is chosen at once, when `answer` is called; the answer's SDP
 * (a browser's transport: the worker's round trips) is made after, while
 * the agents' INVITEs leave (`Call.start`). Whatever needs the answer made
 * (an agent's 200 or early media bridged to the caller, a later answer)
 * waits for `made()`; an answer that could not be made ends the call.
 */
import { isParleyError } from '@parley/shared/errors';
import type { Logger } from '../observability/index.js';
import type { CallRecordKeeper, CallEnd } from './call-record.js';
import type { CallerAnswer } from './call-types.js';
import type { InboundLeg } from './inbound-leg.js';
import { pickCodec, type ChosenCodec } from './sdp-bridge.js';

export class GatewayAnswer {
  readonly #caller: InboundLeg;
  readonly #keeper: CallRecordKeeper;
  readonly #end: (how: CallEnd) => void;
  readonly #log: Logger;
  #codec: ChosenCodec | undefined;
  /** The first answer's SDP being made and sent; true once sent, false when it failed or the leg ended. */
  #making: Promise<boolean> | undefined;
  /** The early answer was a 180 with SDP (the caller's own ringback), not a 183. */
  #earlyRinging = false;
  /** The gateway's own media (queue music, a prompt) was heard since: no agent's early media is. */
  #gatewayHeard = false;
  /** The 180 became 183 (once). */
  #moved183 = false;

  constructor(
    caller: InboundLeg,
    keeper: CallRecordKeeper,
    end: (how: CallEnd) => void,
    log: Logger,
  ) {
    this.#caller = caller;
    this.#keeper = keeper;
    this.#end = end;
    this.#log = log;
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
   * Resolves once the gateway's first answer is made and sent (true), at once
   * when it made none; false when it could not be made (the call ends) or the
   * caller's leg ended. Never rejects.
   */
  made(): Promise<boolean> {
    return this.#making ?? Promise.resolve(!this.#caller.ended);
  }

  /**
   * Answers (or moves an earlier answer on: 180 to 183, early to 200, same
   * SDP). The codec is chosen before the first await: agents rung right after
   * this call are offered it alone, while the answer is still being made.
   * False when the caller's leg is gone; an offer without the codec ends the
   * call (488 offer_required), as does an answer that cannot be made
   * (`media_failed`). The call checks it may answer first.
   */
  async answer(answer: CallerAnswer): Promise<boolean> {
    const caller = this.#caller;
    // An answer being made is finished first (a flow answering while the early answer is made).
    if (this.#making && !(await this.#making)) return false;
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
    this.#making = this.#make(chosen, how);
    return this.#making;
  }

  async #make(chosen: ChosenCodec, how: 'ringing' | 'early' | 'answer'): Promise<boolean> {
    const caller = this.#caller;
    try {
      if (!(await caller.answerWith(chosen, how))) return false;
    } catch (error) {
      // Closed under it: the call ended meanwhile (the caller's CANCEL), nothing failed.
      if (caller.ended) return false;
      this.#log.error({ err: error }, "the caller's answer could not be made");
      const offer = isParleyError(error) && error.code === 'offer_required';
      const reason = offer ? 'offer_required' : 'media_failed';
      this.#end({ outcome: 'failed', endedBy: 'gateway', reason, status: offer ? 488 : 500 });
      return false;
    }
    if (how === 'answer') this.#answered();
    return !caller.ended;
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
