/**
 * One call through the B2BUA: the caller's leg (we are its UAS), the legs the
 * call makes (agents, `agent-dial.ts`; we are their UAC), the media router that
 * joins two legs (`bridge`), and the record, which holds the call's state
 * machine (`call-record.ts`): routing ──▶ ringing ──▶ answered ──▶ ended.
 *
 * By default the caller is answered with the codec of the agent who answers
 * (no transcoding). The gateway may answer the caller itself first
 * (`answerCaller`: 183 or 200, a codec it picks; agents are then offered that
 * codec only); meanwhile `caller.media` on `router` is where a media
 * application attaches. `end()` runs once, from any state, and closes it all.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ParleyError } from '@parley/shared/errors';
import type { VerifiedCallToken } from '@parley/shared/tokens';
import type { AgentPresence } from '../agents/index.js';
import type { MediaRouter } from '../media/index.js';
import { callerNumberClaim } from '../numbers/index.js';
import type { Logger } from '../observability/index.js';
import type { RoutingDecision } from '../routing/index.js';
import type { CallRecord, CallState } from '../storage/index.js';
import { AgentDial } from './agent-dial.js';
import { CallRecordKeeper, callEndOf, mediaCounters, type CallEnd } from './call-record.js';
import type { CallDeps, CallerAnswer, CallEvents, CallInit } from './call-types.js';
import { InDialog, type CallLeg } from './in-dialog.js';
import { InboundLeg } from './inbound-leg.js';
import type { LegEnd } from './leg.js';
import { outcomeOf } from './ring-strategy.js';
import { pickCodec, type ChosenCodec } from './sdp-bridge.js';

export class Call extends EventEmitter<CallEvents> {
  readonly id = randomUUID();
  /** The leg of the party who called (the visitor). */
  readonly caller: InboundLeg;
  readonly #deps: CallDeps;
  readonly #init: CallInit;
  readonly #log: Logger;
  readonly #keeper: CallRecordKeeper;
  readonly #legs = new Set<CallLeg>();
  readonly #peers = new Map<CallLeg, CallLeg>();
  readonly #agents: AgentDial;
  readonly #inDialog: InDialog;
  #media: Promise<boolean> | undefined;
  #router: MediaRouter | undefined;
  /** The codec the gateway answered the caller with itself. */
  #gatewayCodec: ChosenCodec | undefined;
  #ending = false;
  #endOnNoAgent = true;

  constructor(deps: CallDeps, init: CallInit) {
    super();
    this.#deps = deps;
    this.#init = init;
    const claims = init.token.claims;
    const log = deps.logger.child({ module: 'call', callId: this.id, tenant: claims.iss });
    this.#log = log;
    this.caller = new InboundLeg({ ...init, stack: deps.stack, name: 'caller', logger: log });
    // S6: the company's web application may name the session's number in the token.
    const number = deps.numbers.lease(claims.iss, claims.sub, callerNumberClaim(init.token));
    const keeper = new CallRecordKeeper(
      { store: deps.calls, now: deps.now ?? Date.now, log },
      { id: this.id, ...init, number },
    );
    this.#keeper = keeper;
    this.#inDialog = new InDialog({
      log,
      caller: this.caller,
      peerOf: (l) => this.#peers.get(l),
      onHold: (held) => this.agentHold(held),
      onDtmf: (l, digit) => this.emit('dtmf', digit, l),
      onDialogChange: () => keeper.save(),
    });
    this.#agents = new AgentDial({
      callId: this.id,
      deps,
      init,
      caller: this.caller,
      keeper,
      log,
      router: () => this.#router,
      gatewayCodec: () => this.#gatewayCodec,
      ending: () => this.#ending,
      adopt: (leg) => this.#adopt(leg),
      bridge: (a, b) => this.bridge(a, b),
      ringing: () => this.#transition('ringing'),
      end: (how) => this.end(how),
    });
    this.#agents.on('ringing', (id) => this.emit('agentRinging', id));
    this.#agents.on('stopped', (id) => this.emit('agentStopped', id));
    this.#agents.on('exhausted', (reason) => {
      this.emit('agentsExhausted', reason);
      if (this.#endOnNoAgent) this.end({ outcome: outcomeOf(reason), endedBy: 'gateway', reason });
    });
    this.#agents.on('connected', (_leg, agentId) => {
      this.#transition('answered');
      this.emit('answered', agentId);
    });
    this.#adopt(this.caller);
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

  /** The verified token of the visitor: what the desk shows about the caller. */
  get token(): VerifiedCallToken {
    return this.#init.token;
  }

  get decision(): RoutingDecision | undefined {
    return this.#agents.decision;
  }

  get ringingAgents(): string[] {
    return this.#agents.ringingAgents;
  }

  /** The agent who took the call, once answered. */
  get agentId(): string | undefined {
    return this.#agents.agent?.id;
  }

  get held(): boolean {
    return this.#inDialog.held;
  }

  /** The media router: one per call, every leg's transport on it (once `setUpMedia` ran). */
  get router(): MediaRouter | undefined {
    return this.#router;
  }

  /** Every leg the call made, the caller's first (ended ones too). */
  get legs(): readonly CallLeg[] {
    return [...this.#legs];
  }

  /** Admits the call: media, then (with `init.answer`) the gateway's answer, then agents ring. */
  async start(): Promise<void> {
    this.#keeper.insert();
    const { sessionNumber, numberFallback: fallback, queue, visitorSource: visitor } = this.record;
    this.#log.info({ sessionNumber, fallback, queue, visitor }, 'call admitted');
    void this.#agents.evaluate(); // in parallel with the media
    if (!(await this.setUpMedia())) return;
    if (this.#init.answer && !(await this.answerCaller(this.#init.answer))) return;
    if (this.#init.ringAgents ?? true) await this.ringAgents();
  }

  /**
   * Rings the queue's agents (once per call) and joins the one who answers
   * (`answered`); resolves once the first legs are on their way. When no one
   * answers: `agentsExhausted`, and the call ends unless `endOnNoAgent` is false.
   */
  async ringAgents(options: { readonly endOnNoAgent?: boolean } = {}): Promise<void> {
    this.#endOnNoAgent = options.endOnNoAgent ?? true;
    if (await this.setUpMedia()) await this.#agents.start();
  }

  /** The router and the caller's media transport (once; false when the call ended instead). */
  setUpMedia(): Promise<boolean> {
    return (this.#media ??= this.#createMedia());
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
    const chosen = pickCodec(this.caller.offer, answer.codec);
    if (!chosen) {
      this.end({ outcome: 'failed', endedBy: 'gateway', reason: 'offer_required', status: 488 });
      return false;
    }
    this.#gatewayCodec = chosen;
    if (!(await this.caller.answerWith(chosen, answer.early ?? false))) return false;
    if (answer.early) return true;
    this.#keeper.legsAnswered(this.caller);
    this.#keeper.save();
    return true;
  }

  /** Joins two legs' media (and their in-dialog requests): what one party says, the other hears. */
  bridge(a: CallLeg, b: CallLeg): void {
    if (!this.#router || !a.media || !b.media)
      throw new ParleyError('internal', 'both legs need their media transports to be bridged');
    for (const leg of [a, b]) {
      const old = this.#peers.get(leg);
      if (old) this.#peers.delete(old);
    }
    this.#router.pipe(a.media, b.media);
    this.#peers.set(a, b);
    this.#peers.set(b, a);
  }

  /** An agent's presence changed: one who left while ringing is cancelled (ring strategy). */
  agentChanged(presence: AgentPresence): void {
    this.#agents.agentChanged(presence);
  }

  /** The agent put the visitor on hold or took them off it (the desk, or a phone's re-INVITE). */
  agentHold(held: boolean): void {
    if (!this.#agents.agent || this.#ending) return;
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
    for (const leg of this.#legs) leg.close(how.reason);
    this.#router?.close();
    this.#deps.numbers.release(this.tenant, this.record.sessionId, this.record.sessionNumber);
    const media = mediaCounters(this.caller.media, this.#agents.agent?.leg.media);
    this.#keeper.finish({ ...how, status: this.caller.end?.status }, media);
    this.emit('state', 'ended');
    const { outcome, endedBy, reason } = how;
    this.#log.info({ outcome, endedBy, reason, status: this.record.sipStatus }, 'call ended');
    this.#deps.onOutcome?.(this.record);
    this.emit('ended', this.record);
  }

  async #createMedia(): Promise<boolean> {
    try {
      const router = this.#deps.media.createRouter({
        callId: this.id,
        inactivityTimeoutMs: this.#deps.mediaInactivityMs,
      });
      this.#router = router;
      router.on('inactive', ({ transportId }) => {
        if (this.state !== 'answered' && !this.#gatewayCodec) return;
        this.#log.warn({ transportId }, 'media stopped: ending the call');
        this.end({ outcome: 'answered', endedBy: 'gateway', reason: 'media_timeout' });
      });
      const media = await this.caller.openMedia(router, 'visitor');
      if (media.kind === 'webrtc') {
        media.on('message', (text) => this.emit('visitorMessage', text));
        media.on('dataChannelOpen', () => this.emit('dataChannelOpen'));
      }
      return !this.#ending;
    } catch (error) {
      this.#log.error({ err: error }, 'media could not be set up');
      this.end({ outcome: 'failed', endedBy: 'gateway', reason: 'media_ports_exhausted' });
      return false;
    }
  }

  #adopt(leg: CallLeg): void {
    this.#legs.add(leg);
    leg.on('request', (request, tx) => this.#inDialog.handle(leg, request, tx));
    leg.on('ended', (end) => this.#legEnded(leg, end));
    // A browser's media gone while answered (ICE failed, closed without a BYE).
    leg.on('mediaLost', () => {
      if (leg === this.caller)
        this.end({ outcome: 'answered', endedBy: 'visitor', reason: 'visitor_gone' });
      else if (leg === this.#agents.agent?.leg)
        this.end({ outcome: 'answered', endedBy: 'agent', reason: 'agent_unreachable' });
    });
  }

  /** The caller's leg, or the agent's once answered, ended: so does the call. */
  #legEnded(leg: CallLeg, end: LegEnd): void {
    const peer = this.#peers.get(leg); // an ended leg is joined to no one
    if (peer && this.#peers.get(peer) === leg) this.#peers.delete(peer);
    this.#peers.delete(leg);
    const role =
      leg === this.caller ? 'caller' : leg === this.#agents.agent?.leg ? 'agent' : 'other';
    const how = callEndOf(role, end, this.state === 'answered');
    if (how && !this.#ending) this.end(how);
  }

  #transition(next: CallState): void {
    if (this.state !== next && this.#keeper.transition(next)) this.emit('state', next);
  }
}
