/**
 * One call through the B2BUA: the caller's leg (we are its UAS), the legs the
 * call makes (a queue's agents, `queue-ringing.ts`; we are their UAC) or takes
 * from other modules, who is joined to whom (`bridge`, `call-legs.ts`), and
 * the record, which holds the call's state machine (`call-record.ts`):
 * routing ──▶ ringing ──▶ answered ──▶ ended.
 *
 * By default the caller is answered with the codec of the agent who answers
 * (no transcoding). The gateway may answer the caller itself first
 * (`answerCaller`: 183 or 200, a codec it picks; agents are then offered that
 * codec only: `gateway-answer.ts`); meanwhile `caller.media` on `router`
 * (`call-media.ts`) is where a media application attaches. Legs other modules
 * made report through `foreign-legs.ts`. These parts are made and wired
 * together in `call-parts.ts`. `end()` runs once, from any state, and closes
 * them all.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ErrorCode } from '@parley/shared/errors';
import type { VerifiedCallToken } from '@parley/shared/tokens';
import type { AgentPresence } from '../agents/index.js';
import type { MediaRouter } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import type { RoutingDecision } from '../routing/index.js';
import type { CallRecord, CallState } from '../storage/index.js';
import { callParts, type CallParts } from './call-parts.js';
import { mediaCounters, type CallEnd } from './call-record.js';
import { callerView, type CallerView } from './caller-view.js';
import type { CallDeps, CallerAnswer, CallEvents, CallInit } from './call-types.js';
import type { CallLeg } from './in-dialog.js';
import { InboundLeg } from './inbound-leg.js';
import type { OutboundLeg } from './outbound-leg.js';
import type { ChosenCodec } from './sdp-bridge.js';

export class Call extends EventEmitter<CallEvents> {
  readonly id = randomUUID();
  /** The leg of the party who called (the visitor). */
  readonly caller: InboundLeg;
  readonly #deps: CallDeps;
  readonly #init: CallInit;
  readonly #log: Logger;
  readonly #view: CallerView;
  /** What the call is made of: its record, legs, media, agents… (`call-parts.ts`). */
  readonly #parts: CallParts;
  #ending = false;

  constructor(deps: CallDeps, init: CallInit) {
    super();
    this.#deps = deps;
    this.#init = init;
    const log = deps.logger.child({ module: 'call', callId: this.id });
    this.caller = new InboundLeg({ ...init, stack: deps.stack, name: 'caller', logger: log });
    this.#view = callerView(init, this.caller.webrtc);
    this.#log = log.child({ tenant: this.#view.tenant });
    this.#parts = callParts(this, { deps, init, view: this.#view, log: this.#log });
  }

  get record(): CallRecord {
    return this.#parts.keeper.record;
  }

  get state(): CallState {
    return this.#parts.keeper.state;
  }

  get tenant(): string {
    return this.record.tenant;
  }

  /** The verified token of a visitor; undefined for a call from the telephone network. */
  get token(): VerifiedCallToken | undefined {
    return this.#init.token;
  }

  /** Who called (a visitor or the telephone network): what the desk and flows show. */
  get callerView(): CallerView {
    return this.#view;
  }

  get decision(): RoutingDecision | undefined {
    return this.#parts.agents.decision;
  }

  get ringingAgents(): string[] {
    return this.#parts.agents.ringingAgents;
  }

  /** The agent talking with the caller: who took the call, or whom a flow bridged. */
  get agentId(): string | undefined {
    return this.#parts.agents.agent?.id ?? this.#parts.foreign.flowAgent?.id;
  }

  /** The codec the gateway answered the caller with itself, if it did. */
  get gatewayCodec(): ChosenCodec | undefined {
    return this.#parts.answer.codec;
  }

  /** Whether the call is ending or ended. */
  get ending(): boolean {
    return this.#ending;
  }

  get held(): boolean {
    return this.#parts.inDialog.held;
  }

  /** The media router: one per call, every leg's transport on it (once `setUpMedia` ran). */
  get router(): MediaRouter | undefined {
    return this.#parts.media.router;
  }

  /** Every leg the call made, the caller's first (ended ones too). */
  get legs(): readonly CallLeg[] {
    return this.#parts.legs.all;
  }

  /**
   * Admits the call: media, then (with `init.answer` or an early answer) the
   * gateway's answer and the agents' ringing together. The answer's codec is
   * chosen first, at once, so the agents are offered it alone; its SDP (a
   * browser's transport and producers in the media worker) is made while
   * their INVITEs leave, and whatever needs it waits for it (`GatewayAnswer.made`).
   */
  async start(): Promise<void> {
    this.#parts.keeper.insert();
    const { sessionNumber, numberFallback: fallback, queue, visitorSource: visitor } = this.record;
    const { channel, trunk } = this.record;
    this.#log.info({ sessionNumber, fallback, queue, visitor, channel, trunk }, 'call admitted');
    void this.#parts.agents.evaluate(); // in parallel with the media
    if (!(await this.setUpMedia())) return;
    const ring = this.#init.ringAgents ?? true;
    const answer =
      this.#init.answer ??
      (ring ? this.#deps.earlyAnswer?.(this.caller, this.#init.queue) : undefined);
    // Not answerCaller(): its checks are made, and the codec must be chosen before the agents ring.
    const answering = answer ? this.#parts.answer.answer(answer) : Promise.resolve(true);
    if (this.#ending || !ring) {
      await answering;
      return;
    }
    await Promise.all([answering, this.ringAgents()]);
  }

  /**
   * Rings the queue's agents (once per call) and joins the one who answers
   * (`answered`); resolves once the first legs are on their way. When no one
   * answers: `agentsExhausted`, and the call ends unless `endOnNoAgent` is false.
   */
  ringAgents(
    options: { readonly endOnNoAgent?: boolean; readonly queue?: string } = {},
  ): Promise<void> {
    return this.#parts.agents.ring(options);
  }

  /** The customer's value (S1) for the call's queue, once computed; undefined without one. */
  value(): Promise<{ readonly value: number; readonly tier: string } | undefined> {
    return this.#parts.agents
      .evaluate()
      .then((v) => (v ? { value: v.result.value, tier: v.result.tier } : undefined));
  }

  /**
   * The call takes a leg another module made (a flow's dial, the gated call
   * path's device legs): its in-dialog requests are handled like an agent's,
   * and it is closed when the call ends. Its own end is that module's to handle.
   */
  adoptLeg(leg: CallLeg): void {
    this.#parts.legs.adopt(leg);
  }

  /** An agent a flow rang answered and is bridged to the caller (`ForeignLegs`). */
  agentConnected(leg: OutboundLeg, agentId: string, wrapUpSeconds: number): void {
    this.#parts.foreign.agentConnected(leg, agentId, wrapUpSeconds);
  }

  /** Another module's leg rings for this call, or stopped ringing (`ForeignLegs`). */
  showRinging(agentId: string | undefined, ringing: boolean): void {
    this.#parts.foreign.showRinging(agentId, ringing);
  }

  /** Another module joined `leg` to the caller: the call is answered (`ForeignLegs`). */
  targetAnswered(leg: CallLeg): void {
    this.#parts.foreign.targetAnswered(leg);
  }

  /**
   * Another module answers when no agent takes the call (voicemail): on
   * `agentsExhausted` the call stays up, whatever `ringAgents` was told.
   */
  keepOnNoAgent(): void {
    this.#parts.agents.keep();
  }

  /** No agent is rung (voicemail outside business hours): `agentsExhausted(reason)` at once instead. */
  skipAgents(reason: ErrorCode): void {
    this.#parts.agents.skip(reason);
  }

  /** The router and the caller's media transport (once; false when the call ended instead). */
  setUpMedia(): Promise<boolean> {
    return this.#parts.media.setUp();
  }

  /**
   * The gateway answers the caller's leg itself, before any agent: with
   * `codec` from the caller's offer (and its telephone-event), as 183 early
   * media or 200. Agents rung from then on are offered that codec only (call
   * it before they ring: one already ringing may answer with another, which
   * cannot be bridged without transcoding). False when the call ended (an
   * offer without that codec ends it: 488 offer_required).
   */
  async answerCaller(answer: CallerAnswer): Promise<boolean> {
    if (this.#ending || this.#parts.agents.agent || !(await this.setUpMedia())) return false;
    return this.#parts.answer.answer(answer);
  }

  /**
   * The gateway's own answer to the caller is made and sent (at once when it
   * made none, or made it already); false when it failed (the call ends) or
   * the caller's leg ended. What joins a leg to the caller waits for it.
   */
  answerMade(): Promise<boolean> {
    return this.#parts.answer.made();
  }

  /** Joins two legs' media (and their in-dialog requests): what one party says, the other hears. */
  bridge(a: CallLeg, b: CallLeg): void {
    this.#parts.legs.bridge(a, b);
  }

  /** An agent's presence changed: one who left while ringing is cancelled (ring strategy). */
  agentChanged(presence: AgentPresence): void {
    this.#parts.agents.agentChanged(presence);
  }

  /** The agent put the visitor on hold or took them off it (the desk, or a phone's re-INVITE). */
  agentHold(held: boolean): void {
    if (!this.agentId || this.#ending) return;
    if (this.#parts.inDialog.hold(held)) this.emit('hold', held);
  }

  /** Sends a data-channel message to the visitor; false when the channel is not open. */
  sendToVisitor(text: string): boolean {
    return this.#parts.inDialog.sendToCaller(text);
  }

  /** Ends the call from any state; safe to call more than once. */
  end(how: CallEnd): void {
    if (this.#ending) return;
    this.#ending = true;
    if (!this.caller.ended && this.caller.tx.finalStatus === undefined)
      this.caller.refuse(how.reason, how.status);
    this.#parts.agents.close(how.reason);
    this.#parts.legs.close(how.reason);
    this.#parts.media.close();
    if (this.#init.token)
      this.#deps.numbers.release(this.tenant, this.record.sessionId, this.record.sessionNumber);
    this.#view.trunk?.release();
    const agentLeg = this.#parts.agents.agent?.leg ?? this.#parts.foreign.flowAgent?.leg;
    const media = mediaCounters(this.caller.media, agentLeg?.media);
    this.#parts.keeper.finish({ ...how, status: this.caller.end?.status }, media);
    this.emit('state', 'ended');
    const { outcome, endedBy, reason } = how;
    this.#log.info({ outcome, endedBy, reason, status: this.record.sipStatus }, 'call ended');
    this.#deps.onOutcome?.(this.record);
    this.emit('ended', this.record);
  }
}
