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
 * made report through `foreign-legs.ts`. `end()` runs once, from any state,
 * and closes it all.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ErrorCode } from '@parley/shared/errors';
import type { VerifiedCallToken } from '@parley/shared/tokens';
import type { AgentPresence } from '../agents/index.js';
import type { MediaRouter } from '../media/index.js';
import { callerNumberClaim } from '../numbers/index.js';
import type { Logger } from '../observability/index.js';
import type { RoutingDecision } from '../routing/index.js';
import type { CallRecord, CallState } from '../storage/index.js';
import { CallLegs } from './call-legs.js';
import { CallMedia } from './call-media.js';
import { CallRecordKeeper, mediaCounters, type CallEnd } from './call-record.js';
import { callerView, type CallerView } from './caller-view.js';
import type { CallDeps, CallerAnswer, CallEvents, CallInit } from './call-types.js';
import { ForeignLegs } from './foreign-legs.js';
import { GatewayAnswer } from './gateway-answer.js';
import { InDialog, type CallLeg } from './in-dialog.js';
import { InboundLeg } from './inbound-leg.js';
import type { OutboundLeg } from './outbound-leg.js';
import { QueueRinging } from './queue-ringing.js';
import type { ChosenCodec } from './sdp-bridge.js';

export class Call extends EventEmitter<CallEvents> {
  readonly id = randomUUID();
  /** The leg of the party who called (the visitor). */
  readonly caller: InboundLeg;
  readonly #deps: CallDeps;
  readonly #init: CallInit;
  readonly #log: Logger;
  readonly #keeper: CallRecordKeeper;
  readonly #legs: CallLegs;
  readonly #view: CallerView;
  /** Ringing a queue's agents: the visitor's queue, or the one a flow dials. */
  readonly #agents: QueueRinging;
  /** Legs other modules made for the call: their ringing, answer, a flow's bridged agent. */
  readonly #foreign: ForeignLegs;
  readonly #inDialog: InDialog;
  readonly #media: CallMedia;
  readonly #answer: GatewayAnswer;
  #ending = false;

  constructor(deps: CallDeps, init: CallInit) {
    super();
    this.#deps = deps;
    this.#init = init;
    const log0 = deps.logger.child({ module: 'call', callId: this.id });
    this.caller = new InboundLeg({ ...init, stack: deps.stack, name: 'caller', logger: log0 });
    const view = callerView(init, this.caller.webrtc);
    this.#view = view;
    const log = log0.child({ tenant: view.tenant });
    this.#log = log;
    // S6: a visitor's session gets its caller-ID number (the token's `callerNumber` claim when
    // it is inside the tenant's blocks); a trunk call is known by the DID it called.
    const number = init.token
      ? deps.numbers.lease(view.tenant, view.sessionId, callerNumberClaim(init.token))
      : { number: view.trunk?.called ?? '', fallback: false };
    const keeper = new CallRecordKeeper(
      { store: deps.calls, now: deps.now ?? Date.now, log },
      {
        id: this.id,
        caller: view,
        queue: init.queue,
        invite: init.invite,
        flow: init.flow,
        number,
      },
    );
    this.#keeper = keeper;
    const legs = new CallLegs({
      caller: this.caller,
      router: () => this.#media.router,
      agentLeg: () => this.#agents.agent?.leg,
      answered: () => this.state === 'answered',
    });
    this.#legs = legs;
    legs.on('request', (leg, request, tx) => this.#inDialog.handle(leg, request, tx));
    legs.on('callEnds', (how) => this.end(how));
    this.#inDialog = new InDialog({
      log,
      caller: this.caller,
      peerOf: (l) => legs.peerOf(l),
      onHold: (held) => this.agentHold(held),
      onDtmf: (l, digit) => this.emit('dtmf', digit, l),
      onDialogChange: () => keeper.save(),
      onIceRestart: (ok) => this.emit('iceRestart', ok),
    });
    this.caller.on('reconnect', (outcome, gapMs) => this.emit('reconnect', outcome, gapMs));
    this.#media = new CallMedia({
      callId: this.id,
      deps,
      caller: this.caller,
      log,
      events: this,
      silenceEnds: () => this.state === 'answered' || this.#answer.codec !== undefined,
      ending: () => this.#ending,
      end: (how) => this.end(how),
    });
    this.#answer = new GatewayAnswer(this.caller, keeper, (how) => this.end(how));
    this.#foreign = new ForeignLegs({
      caller: this.caller,
      keeper,
      agents: deps.agents,
      events: this,
      ending: () => this.#ending,
      transition: (next) => this.#transition(next),
    });
    this.#agents = new QueueRinging({
      callId: this.id,
      deps,
      queue: init.queue,
      view,
      caller: this.caller,
      keeper,
      log,
      events: this,
      router: () => this.#media.router,
      gatewayCodec: () => this.#answer.codec,
      ending: () => this.#ending,
      setUpMedia: () => this.setUpMedia(),
      adopt: (leg) => legs.adopt(leg),
      bridge: (a, b) => legs.bridge(a, b),
      transition: (next) => this.#transition(next),
      end: (how) => this.end(how),
    });
    legs.adopt(this.caller);
  }

  get record(): CallRecord {
    return this.#keeper.record;
  }

  get state(): CallState {
    return this.#keeper.state;
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
    return this.#agents.decision;
  }

  get ringingAgents(): string[] {
    return this.#agents.ringingAgents;
  }

  /** The agent talking with the caller: who took the call, or whom a flow bridged. */
  get agentId(): string | undefined {
    return this.#agents.agent?.id ?? this.#foreign.flowAgent?.id;
  }

  /** The codec the gateway answered the caller with itself, if it did. */
  get gatewayCodec(): ChosenCodec | undefined {
    return this.#answer.codec;
  }

  /** Whether the call is ending or ended. */
  get ending(): boolean {
    return this.#ending;
  }

  get held(): boolean {
    return this.#inDialog.held;
  }

  /** The media router: one per call, every leg's transport on it (once `setUpMedia` ran). */
  get router(): MediaRouter | undefined {
    return this.#media.router;
  }

  /** Every leg the call made, the caller's first (ended ones too). */
  get legs(): readonly CallLeg[] {
    return this.#legs.all;
  }

  /** Admits the call: media, then (with `init.answer`) the gateway's answer, then agents ring. */
  async start(): Promise<void> {
    this.#keeper.insert();
    const { sessionNumber, numberFallback: fallback, queue, visitorSource: visitor } = this.record;
    const { channel, trunk } = this.record;
    this.#log.info({ sessionNumber, fallback, queue, visitor, channel, trunk }, 'call admitted');
    void this.#agents.evaluate(); // in parallel with the media
    if (!(await this.setUpMedia())) return;
    const answer =
      this.#init.answer ??
      (this.#init.ringAgents === false
        ? undefined
        : this.#deps.earlyAnswer?.(this.caller, this.#init.queue));
    if (answer && !(await this.answerCaller(answer))) return;
    if (this.#init.ringAgents ?? true) await this.ringAgents();
  }

  /**
   * Rings the queue's agents (once per call) and joins the one who answers
   * (`answered`); resolves once the first legs are on their way. When no one
   * answers: `agentsExhausted`, and the call ends unless `endOnNoAgent` is false.
   */
  ringAgents(
    options: { readonly endOnNoAgent?: boolean; readonly queue?: string } = {},
  ): Promise<void> {
    return this.#agents.ring(options);
  }

  /** The customer's value (S1) for the call's queue, once computed; undefined without one. */
  value(): Promise<{ readonly value: number; readonly tier: string } | undefined> {
    return this.#agents
      .evaluate()
      .then((v) => (v ? { value: v.result.value, tier: v.result.tier } : undefined));
  }

  /**
   * The call takes a leg another module made (a flow's dial, the gated call
   * path's device legs): its in-dialog requests are handled like an agent's,
   * and it is closed when the call ends. Its own end is that module's to handle.
   */
  adoptLeg(leg: CallLeg): void {
    this.#legs.adopt(leg);
  }

  /** An agent a flow rang answered and is bridged to the caller (`ForeignLegs`). */
  agentConnected(leg: OutboundLeg, agentId: string, wrapUpSeconds: number): void {
    this.#foreign.agentConnected(leg, agentId, wrapUpSeconds);
  }

  /** Another module's leg rings for this call, or stopped ringing (`ForeignLegs`). */
  showRinging(agentId: string | undefined, ringing: boolean): void {
    this.#foreign.showRinging(agentId, ringing);
  }

  /** Another module joined `leg` to the caller: the call is answered (`ForeignLegs`). */
  targetAnswered(leg: CallLeg): void {
    this.#foreign.targetAnswered(leg);
  }

  /**
   * Another module answers when no agent takes the call (voicemail): on
   * `agentsExhausted` the call stays up, whatever `ringAgents` was told.
   */
  keepOnNoAgent(): void {
    this.#agents.keep();
  }

  /** No agent is rung (voicemail outside business hours): `agentsExhausted(reason)` at once instead. */
  skipAgents(reason: ErrorCode): void {
    this.#agents.skip(reason);
  }

  /** The router and the caller's media transport (once; false when the call ended instead). */
  setUpMedia(): Promise<boolean> {
    return this.#media.setUp();
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
    if (this.#ending || this.#agents.agent || !(await this.setUpMedia())) return false;
    return this.#answer.answer(answer);
  }

  /** Joins two legs' media (and their in-dialog requests): what one party says, the other hears. */
  bridge(a: CallLeg, b: CallLeg): void {
    this.#legs.bridge(a, b);
  }

  /** An agent's presence changed: one who left while ringing is cancelled (ring strategy). */
  agentChanged(presence: AgentPresence): void {
    this.#agents.agentChanged(presence);
  }

  /** The agent put the visitor on hold or took them off it (the desk, or a phone's re-INVITE). */
  agentHold(held: boolean): void {
    if (!this.agentId || this.#ending) return;
    if (this.#inDialog.hold(held)) this.emit('hold', held);
  }

  /** Sends a data-channel message to the visitor; false when the channel is not open. */
  sendToVisitor(text: string): boolean {
    return this.#inDialog.sendToCaller(text);
  }

  /** Ends the call from any state; safe to call more than once. */
  end(how: CallEnd): void {
    if (this.#ending) return;
    this.#ending = true;
    if (!this.caller.ended && this.caller.tx.finalStatus === undefined)
      this.caller.refuse(how.reason, how.status);
    this.#agents.close(how.reason);
    this.#legs.close(how.reason);
    this.#media.close();
    if (this.#init.token)
      this.#deps.numbers.release(this.tenant, this.record.sessionId, this.record.sessionNumber);
    this.#view.trunk?.release();
    const agentLeg = this.#agents.agent?.leg ?? this.#foreign.flowAgent?.leg;
    const media = mediaCounters(this.caller.media, agentLeg?.media);
    this.#keeper.finish({ ...how, status: this.caller.end?.status }, media);
    this.emit('state', 'ended');
    const { outcome, endedBy, reason } = how;
    this.#log.info({ outcome, endedBy, reason, status: this.record.sipStatus }, 'call ended');
    this.#deps.onOutcome?.(this.record);
    this.emit('ended', this.record);
  }

  #transition(next: CallState): void {
    if (this.state !== next && this.#keeper.transition(next)) this.emit('state', next);
  }
}
