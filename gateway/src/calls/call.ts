/**
 * One visitor call through the B2BUA: the visitor leg (we are its UAS), the
 * agent legs we try one after another (we are their UAC), the media router
 * joining them, and the stored record.
 *
 *   routing ──▶ ringing ──▶ answered ──▶ ended
 *      │           │                      ▲
 *      └───────────┴──────────────────────┘  (no agent, cancel, failure)
 *
 * `end()` runs once, from any state: it answers or hangs up what is still up,
 * closes the media router, gives back the caller-ID number and writes the
 * final record.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ERROR_CODES, type ErrorCode } from '@parley/shared/errors';
import type { VerifiedCallToken } from '@parley/shared/tokens';
import type {
  MediaEngine,
  MediaRouter,
  PlainRtpTransport,
  Sdp,
  WebRtcTransport,
} from '../media/index.js';
import type { SessionNumberPool } from '../numbers/index.js';
import type { Logger } from '../observability/index.js';
import { reachableContact, type AgentDirectory, type AgentPresence } from '../agents/index.js';
import {
  rankCandidates,
  type QueueRouting,
  type RoutingDecision,
  type ValueService,
} from '../routing/index.js';
import { reasonHeader } from '../sbc/refusal.js';
import {
  Dialog,
  SipRequest,
  formatNameAddr,
  generateCallId,
  generateTag,
  uriTarget,
  type DialogUsage,
  type Flow,
  type InviteClientTransaction,
  type InviteServerTransaction,
  type ServerTransaction,
  type SipResponse,
  type SipStack,
  type Target,
} from '../sip/index.js';
import type {
  CallAttempt,
  CallOutcome,
  CallParty,
  CallRecord,
  CallState,
  CallStore,
} from '../storage/index.js';
import {
  agentOfferFromBrowser,
  aim,
  bridgeableCodecs,
  plainAnswer,
  chosenCodec,
  isWebRtcOffer,
  localAnswer,
  offerDirection,
  readLegSdp,
  relaySdp,
  sdpText,
  type LegSdp,
} from './sdp-bridge.js';

export interface AgentBinding {
  readonly uri: string;
  readonly flowId: string | undefined;
  readonly expiresAt: number;
}

export interface CallDeps {
  readonly stack: SipStack;
  readonly media: MediaEngine;
  readonly agents: AgentDirectory;
  readonly bindings: (agentId: string) => readonly AgentBinding[];
  readonly numbers: SessionNumberPool;
  readonly calls: CallStore;
  readonly logger: Logger;
  readonly domain: string;
  readonly tenantName: (tenant: string) => string | undefined;
  readonly queue: (name: string) => QueueSettings;
  /** Computes the customer's value; without it, agents are tried longest-idle first. */
  readonly value?: ValueService | undefined;
  readonly mediaInactivityMs: number;
  readonly onOutcome?: (record: CallRecord) => void;
  readonly now?: () => number;
}

export interface QueueSettings {
  readonly ringTimeoutSeconds: number;
  readonly maxAttempts: number;
  readonly wrapUpSeconds: number;
  readonly routing: QueueRouting;
}

export interface CallInit {
  readonly invite: SipRequest;
  readonly tx: InviteServerTransaction;
  readonly flow: Flow;
  readonly token: VerifiedCallToken;
  readonly queue: string;
}

export interface CallEvents {
  state: [CallState];
  ended: [CallRecord];
  /** A data-channel frame from the visitor (unchecked text; the manager validates and stores it). */
  visitorMessage: [string];
  /** The visitor's data channel opened. */
  dataChannelOpen: [];
  /** An agent's phone (or desk) started ringing for this call. */
  agentRinging: [string];
  /** An agent's phone stopped ringing without taking the call (timeout, busy, answered elsewhere, cancelled). */
  agentStopped: [string];
  /** An agent took the call. */
  answered: [string];
  /** The agent put the visitor on hold, or took them off it. */
  hold: [boolean];
}

interface Attempt {
  readonly agent: AgentPresence;
  /** This leg's own media transport (forks must not share one: early media would latch). */
  readonly media: PlainRtpTransport | WebRtcTransport;
  readonly record: CallAttempt;
  readonly invite: SipRequest;
  readonly ict: InviteClientTransaction;
  readonly stopRinging: () => void;
  cancelled: boolean;
  /** Set when the agent answered. */
  dialog?: Dialog;
  /** What the agent last answered with (its 2xx), to re-ACK retransmissions. */
  ack?: SipRequest;
}

/** How long joining the legs after the agent's answer may take (WebRTC answer, piping). */
const CONNECT_TIMEOUT_MS = 10_000;

const ALLOWED_TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  routing: ['ringing', 'answered', 'ended'],
  ringing: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
};

export class Call extends EventEmitter<CallEvents> {
  readonly id = randomUUID();
  readonly record: CallRecord;
  readonly visitorFlow: Flow;
  readonly #deps: CallDeps;
  readonly #init: CallInit;
  #held = false;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #visitorTag = generateTag();
  readonly #visitorContact: string;
  readonly #tried = new Set<string>();
  readonly #offer: LegSdp;
  #router: MediaRouter | undefined;
  #visitorMedia: PlainRtpTransport | WebRtcTransport | undefined;
  /** The visitor is a browser: its leg is WebRTC, terminated here. */
  readonly #webrtc: boolean;
  #agentCodec: ReturnType<typeof chosenCodec>;
  /** Agent legs ringing now (one, or several with simultaneous ringing). */
  readonly #ringing = new Set<Attempt>();
  #batchTimer: NodeJS.Timeout | undefined;
  #connected: Attempt | undefined;
  #decision: RoutingDecision | undefined;
  #visitorDialog: Dialog | undefined;
  #lastSdp: { visitor?: Sdp; agent?: Sdp } = {};
  #endCall: ((wrapUpSeconds?: number) => void) | undefined;
  #unfile: (() => void)[] = [];
  #pendingReinvite = false;
  #lastFailure: ErrorCode = 'no_agent_available';
  readonly #number: { number: string; fallback: boolean };

  constructor(deps: CallDeps, init: CallInit) {
    super();
    this.#deps = deps;
    this.#init = init;
    this.#now = deps.now ?? Date.now;
    this.visitorFlow = init.flow;
    const offer = readLegSdp(init.invite.body);
    if (!offer) throw new Error('the SBC admitted an INVITE without an audio offer');
    this.#offer = offer;
    this.#webrtc = isWebRtcOffer(offer);
    this.#visitorContact = deps.stack.transport.contactUri(init.flow.protocol, 'parley');
    const claims = init.token.claims;
    this.#number = deps.numbers.lease(claims.iss, claims.sub);
    this.record = {
      id: this.id,
      tenant: claims.iss,
      sessionId: claims.sub,
      sessionNumber: this.#number.number,
      numberFallback: this.#number.fallback,
      customerId:
        typeof init.token.privateClaims.customerId === 'string'
          ? init.token.privateClaims.customerId
          : null,
      queue: init.queue,
      origin: claims.origin,
      visitorCallId: init.invite.callId,
      visitorTransport: init.flow.protocol,
      visitorSource: `${init.flow.remote.address}:${init.flow.remote.port}`,
      agentCallId: null,
      agentId: null,
      state: 'routing',
      outcome: null,
      endedBy: null,
      sipStatus: null,
      reason: null,
      attempts: [],
      media: null,
      routing: null,
      createdAt: this.#now(),
      ringingAt: null,
      answeredAt: null,
      endedAt: null,
    };
    this.#log = deps.logger.child({ module: 'call', callId: this.id, tenant: claims.iss });
  }

  get state(): CallState {
    return this.record.state;
  }

  get tenant(): string {
    return this.record.tenant;
  }

  /** The verified token of the visitor: what the desk shows about the caller. */
  get token(): VerifiedCallToken {
    return this.#init.token;
  }

  /** The routing decision, once made. */
  get decision(): RoutingDecision | undefined {
    return this.#decision;
  }

  /**
   * An agent's presence changed: one who went away or offline while ringing
   * for this call is cancelled, and the call moves on to the next candidate.
   */
  agentChanged(presence: AgentPresence): void {
    // A ringing agent's state reads 'ringing': look at what it chose and whether it is reachable.
    if (presence.availability !== 'away' && presence.registered) return;
    for (const attempt of this.#ringing) {
      if (attempt.agent.id !== presence.id || attempt.dialog || attempt.cancelled) continue;
      this.#log.info(
        {
          agent: presence.id,
          availability: presence.availability,
          registered: presence.registered,
        },
        'agent left while ringing',
      );
      this.#lastFailure = 'agent_away';
      this.#cancelAttempt(attempt, 'agent_away');
    }
  }

  /** Agents whose phones ring for this call right now. */
  get ringingAgents(): string[] {
    return [...this.#ringing].filter((a) => !a.cancelled).map((a) => a.agent.id);
  }

  /** The agent who took the call, once answered. */
  get agentId(): string | undefined {
    return this.#connected?.agent.id;
  }

  /** Starts routing; resolves once the first agent leg is on its way (or the call ended). */
  async start(): Promise<void> {
    this.#deps.calls.insert(this.record);
    this.#init.tx.on('cancel', () =>
      this.end({ outcome: 'cancelled', endedBy: 'visitor', status: 487, reason: 'cancelled' }),
    );
    this.#init.tx.on('timeout', () => {
      // No ACK for our 2xx within 64×T1 (RFC 3261 §13.3.1.4): the visitor is gone.
      if (this.state === 'answered')
        this.end({ outcome: 'answered', endedBy: 'gateway', reason: 'visitor_gone' });
    });
    this.#log.info(
      {
        sessionNumber: this.#number.number,
        fallback: this.#number.fallback,
        queue: this.#init.queue,
        visitor: this.record.visitorSource,
      },
      'call admitted',
    );
    const valuing = this.#evaluate();
    try {
      this.#router = this.#deps.media.createRouter({
        callId: this.id,
        inactivityTimeoutMs: this.#deps.mediaInactivityMs,
      });
      this.#router.on('inactive', ({ transportId }) => {
        if (this.state === 'answered') {
          this.#log.warn({ transportId }, 'media stopped: ending the call');
          this.end({ outcome: 'answered', endedBy: 'gateway', reason: 'media_timeout' });
        }
      });
      if (this.#webrtc) {
        const web = await this.#router.createWebRtcTransport({ name: 'visitor' });
        this.#visitorMedia = web;
        web.on('message', (text) => this.emit('visitorMessage', text));
        web.on('dataChannelOpen', () => this.emit('dataChannelOpen'));
        web.on('state', (state) =>
          this.#browserMediaLost(state, () =>
            this.end({ outcome: 'answered', endedBy: 'visitor', reason: 'visitor_gone' }),
          ),
        );
      } else {
        const plain = await this.#router.createPlainTransport({ name: 'visitor' });
        this.#visitorMedia = plain;
        aim(plain, this.#offer);
      }
    } catch (error) {
      this.#log.error({ err: error }, 'media could not be set up');
      this.end({ outcome: 'failed', endedBy: 'gateway', reason: 'media_ports_exhausted' });
      return;
    }
    const value = await valuing;
    if (this.state === 'ended') return;
    await this.#ringNext(value);
  }

  /**
   * The customer's value, from the tenant's providers and algorithm (undefined
   * without a value service). If the lookup itself fails, the call is routed by
   * the default value, and the decision stored with it says why.
   */
  async #evaluate(): Promise<Awaited<ReturnType<ValueService['evaluate']>> | undefined> {
    const service = this.#deps.value;
    if (!service?.has(this.record.tenant)) return undefined;
    try {
      return await service.evaluate(this.record.tenant, this.#init.token.privateClaims);
    } catch (error) {
      this.#log.warn({ err: error }, 'value evaluation failed; routing by the default value');
      return service.failed(this.record.tenant, error);
    }
  }

  /**
   * A browser leg's WebRTC connection went away. `failed` (ICE consent lost) ends
   * the call at once; `closed` is also what an orderly hang-up looks like, a
   * moment before its BYE arrives, so the BYE gets a grace period to say why.
   */
  #browserMediaLost(state: string, end: () => void): void {
    if (this.state !== 'answered') return;
    if (state === 'failed') {
      this.#log.info({ state }, 'browser media connection lost');
      end();
    } else if (state === 'closed') {
      setTimeout(() => {
        if (this.state !== 'answered') return;
        this.#log.info({ state }, 'browser media connection closed without a BYE');
        end();
      }, 1500).unref();
    }
  }

  #ended(): boolean {
    return this.record.state === 'ended';
  }

  /** Ended, or answered by an agent: nothing more to route. */
  #over(): boolean {
    return this.record.state === 'ended' || this.#connected !== undefined;
  }

  /** The visitor's connection closed (WebSocket gone). */
  visitorGone(): void {
    if (this.state === 'ended') return;
    this.end({
      outcome: this.state === 'answered' ? 'answered' : 'cancelled',
      endedBy: 'visitor',
      reason: 'visitor_gone',
    });
  }

  /** Ends the call from any state; safe to call more than once. */
  end(how: { outcome: CallOutcome; endedBy: CallParty; reason: string; status?: number }): void {
    if (this.state === 'ended') return;
    const now = this.#now();
    // Visitor leg: a final response if it has none, else a BYE (unless the visitor ended it).
    const visitorFinal = this.#init.tx.finalStatus;
    if (visitorFinal === undefined) {
      const code = isCode(how.reason) ? how.reason : undefined;
      const status = how.status ?? (code ? ERROR_CODES[code].sip : 500);
      this.#deps.stack.respond(this.#init.tx, status, {
        toTag: this.#visitorTag,
        headers: code ? [reasonHeader(code, status)] : [],
      });
      this.record.sipStatus = status;
    } else if (this.#visitorDialog && how.endedBy !== 'visitor') {
      this.#sendBye(this.#visitorDialog, how.reason);
    } else if (this.#visitorDialog && how.reason === 'visitor_gone') {
      this.#sendBye(this.#visitorDialog, how.reason);
    }
    // Agent legs: cancel those ringing, hang up the connected one (unless the agent ended it).
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    for (const attempt of [...this.#ringing]) {
      if (!attempt.dialog)
        this.#cancelAttempt(attempt, how.reason === 'cancelled' ? 'cancelled' : how.reason);
    }
    if (this.#connected?.dialog && how.endedBy !== 'agent')
      this.#sendBye(this.#connected.dialog, how.reason);

    this.#router?.close();
    this.#endCall?.(this.#deps.queue(this.#init.queue).wrapUpSeconds);
    for (const unfile of this.#unfile) unfile();
    this.#deps.numbers.release(this.record.tenant, this.record.sessionId, this.#number.number);
    this.record.outcome = how.outcome;
    this.record.endedBy = how.endedBy;
    this.record.reason = how.reason;
    this.record.endedAt = now;
    this.record.media = this.#mediaStats();
    this.#transition('ended');
    this.#deps.calls.update(this.record);
    this.#log.info(
      {
        outcome: how.outcome,
        endedBy: how.endedBy,
        reason: how.reason,
        status: this.record.sipStatus,
      },
      'call ended',
    );
    this.#deps.onOutcome?.(this.record);
    this.emit('ended', this.record);
  }

  #transition(next: CallState): void {
    const from = this.record.state;
    if (!ALLOWED_TRANSITIONS[from].includes(next)) {
      this.#log.error({ from, to: next }, 'illegal call state transition ignored');
      return;
    }
    this.record.state = next;
    if (next === 'ringing') this.record.ringingAt = this.#now();
    if (next === 'answered') this.record.answeredAt = this.#now();
    // Stored at the moments that matter (admitted, answered, ended); while it
    // rings, the live record is served from memory (/v1 reads the call manager first).
    if (next === 'answered') this.#deps.calls.update(this.record);
    this.emit('state', next);
  }

  /**
   * Rings the next agent(s): the best candidates not tried yet, one at a time
   * (sequential) or several at once (simultaneous). When every leg of a batch
   * failed or timed out, the next batch; after maxAttempts, the visitor is told.
   */
  async #ringNext(value?: Awaited<ReturnType<ValueService['evaluate']>>): Promise<void> {
    if (this.state === 'ended' || this.#connected) return;
    const queue = this.#deps.queue(this.#init.queue);
    const started = this.#now();
    if (this.#tried.size >= queue.maxAttempts) {
      this.end({
        outcome: outcomeOf(this.#lastFailure),
        endedBy: 'gateway',
        reason: this.#lastFailure,
      });
      return;
    }
    const ranked = rankCandidates(
      this.#deps.agents,
      {
        tenant: this.record.tenant,
        queue: this.#init.queue,
        valueTier: this.#decision?.tier ?? value?.result.tier,
        routing: queue.routing,
        exclude: this.#tried,
      },
      started,
    ).filter((c) => this.#bindingOf(c.agent.id) !== undefined);
    if (value && !this.#decision) {
      this.#decision = {
        value: value.result.value,
        tier: value.result.tier,
        terms: value.result.terms ?? {},
        algorithm: value.algorithm,
        benefit: value.benefit,
        burden: value.burden,
        history: value.history,
        strategy: queue.routing.strategy,
        candidates: ranked.map((c) => c.view),
        decidedInMs: Math.max(0, this.#now() - this.record.createdAt),
      };
      this.record.routing = this.#decision as unknown as Record<string, unknown>;
      this.#log.info(
        { value: this.#decision.value, tier: this.#decision.tier, candidates: ranked.length },
        'routing decided',
      );
    }
    if (ranked.length === 0) {
      const reason: ErrorCode = this.#tried.size === 0 ? 'no_agent_available' : this.#lastFailure;
      this.end({ outcome: outcomeOf(reason), endedBy: 'gateway', reason });
      return;
    }
    const size =
      queue.routing.strategy === 'simultaneous' ? Math.max(1, queue.routing.ringAtOnce) : 1;
    const batch = ranked.slice(0, Math.min(size, queue.maxAttempts - this.#tried.size));
    for (const { agent } of batch) this.#tried.add(agent.id);
    const attempts = await Promise.all(batch.map(({ agent }) => this.#ring(agent)));
    if (attempts.every((a) => a === undefined)) {
      // None could even be sent (no route, no media ports): on to the next ones.
      if (!this.#over()) await this.#ringNext();
      return;
    }
    this.#batchTimer = setTimeout(() => {
      this.#batchTimer = undefined;
      for (const attempt of [...this.#ringing]) {
        if (attempt.dialog) continue;
        this.#log.info({ agent: attempt.agent.id }, 'agent did not answer in time');
        this.#lastFailure = 'agent_no_answer';
        this.#cancelAttempt(attempt, 'agent_no_answer');
      }
    }, queue.ringTimeoutSeconds * 1000);
  }

  #bindingOf(agentId: string): AgentBinding | undefined {
    return reachableContact(this.#deps.bindings(agentId), this.#now());
  }

  async #ring(agent: AgentPresence): Promise<Attempt | undefined> {
    const binding = this.#bindingOf(agent.id);
    const router = this.#router;
    if (!binding || !router || router.closed) return undefined;
    const stack = this.#deps.stack;
    let target: Target;
    try {
      const flow = stack.transport.flow(binding.flowId);
      const uri = uriTarget(binding.uri);
      // Reuse the connection the phone registered over (TCP, NAT); else its Contact.
      target =
        flow && !flow.closed && flow.reliable ? { ...uri, protocol: flow.protocol, flow } : uri;
    } catch (error) {
      this.#log.warn(
        { err: error, agent: agent.id, contact: binding.uri },
        'agent contact is not routable',
      );
      this.#lastFailure = 'agent_unreachable';
      return undefined;
    }
    // An agent registered over WebSocket is a browser (the desk's softphone): a WebRTC leg.
    const browserAgent = target.protocol === 'WS' || target.protocol === 'WSS';
    let agentMedia: PlainRtpTransport | WebRtcTransport;
    let sdpBody: string;
    try {
      if (browserAgent) {
        const web = await router.createWebRtcTransport({ name: `agent:${agent.id}` });
        agentMedia = web;
        sdpBody = await web.offer(bridgeableCodecs(this.#offer));
        web.on('state', (state) =>
          this.#browserMediaLost(state, () => {
            if (this.#connected?.media === web)
              this.end({ outcome: 'answered', endedBy: 'agent', reason: 'agent_unreachable' });
          }),
        );
      } else {
        const plain = await router.createPlainTransport({ name: `agent:${agent.id}` });
        agentMedia = plain;
        sdpBody = sdpText(
          this.#webrtc
            ? agentOfferFromBrowser(this.#offer, plain, String(Date.now()), this.#tried.size)
            : relaySdp(this.#offer, plain, undefined),
        );
      }
    } catch (error) {
      this.#log.warn({ err: error, agent: agent.id }, 'no media transport for the agent leg');
      this.#lastFailure = 'agent_unreachable';
      return undefined;
    }
    if (this.state === 'ended' || this.#connected) {
      agentMedia.close();
      return undefined;
    }

    const number = this.#number.number;
    const display = this.#displayName();
    const identity = formatNameAddr({
      displayName: display,
      uri: `sip:${number}@${this.#deps.domain}`,
    });
    const callId = generateCallId();
    const invite = new SipRequest({
      method: 'INVITE',
      requestUri: binding.uri,
      headers: [
        ['From', `${identity};tag=${generateTag()}`],
        ['To', formatNameAddr({ uri: `sip:${agent.id}@${this.#deps.domain}` })],
        ['Call-ID', callId],
        ['CSeq', '1 INVITE'],
        // RFC 7332 §3: a B2BUA carries the hop count on (one less), so a loop
        // through it still ends in 483 instead of ringing forever.
        ['Max-Forwards', String(Math.max(0, (this.#init.invite.maxForwards ?? 70) - 1))],
        ['Contact', `<${stack.transport.contactUri(target.protocol, 'parley')}>`],
        ['P-Asserted-Identity', identity],
        ['X-Parley-Session', this.record.sessionId],
        ['X-Parley-Call', this.id],
        ['X-Parley-Tenant', this.record.tenant],
        ['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE'],
        ['User-Agent', stack.userAgent],
        ['Content-Type', 'application/sdp'],
      ],
      body: sdpBody,
    });
    const ict = stack.transactions.request(invite, target) as InviteClientTransaction;
    const record: CallAttempt = { agentId: agent.id, callId, startedAt: this.#now() };
    this.record.attempts.push(record);
    this.record.agentCallId = callId;
    this.record.agentId = agent.id;
    const attempt: Attempt = {
      agent,
      media: agentMedia,
      record,
      invite,
      ict,
      stopRinging: once(this.#deps.agents.ringStarted(agent.id), () => {
        if (this.#connected?.agent.id !== agent.id) this.emit('agentStopped', agent.id);
      }),
      cancelled: false,
    };
    this.#ringing.add(attempt);
    this.emit('agentRinging', agent.id);
    this.#log.info({ agent: agent.id, contact: binding.uri, agentCallId: callId }, 'ringing agent');

    ict.on('response', (response) => this.#onAgentResponse(attempt, response));
    ict.on('timeout', () =>
      this.#attemptFailed(
        attempt,
        408,
        attempt.cancelled ? 'agent_no_answer' : 'agent_unreachable',
      ),
    );
    ict.on('transportError', (error) => {
      this.#log.warn({ err: error, agent: agent.id }, 'agent leg could not be sent');
      this.#attemptFailed(attempt, 503, 'agent_unreachable');
    });
    return attempt;
  }

  #onAgentResponse(attempt: Attempt, response: SipResponse): void {
    const status = response.status;
    if (status < 200) {
      if (status === 100 || this.state === 'ended' || !this.#ringing.has(attempt)) return;
      if (this.state === 'routing') this.#transition('ringing');
      if (status === 183 && this.#earlyMedia(attempt, response)) return;
      // Ringing reaches the visitor (a browser plays its own ringback).
      this.#deps.stack.respond(this.#init.tx, 180, {
        toTag: this.#visitorTag,
        headers: [['Contact', `<${this.#visitorContact}>`]],
      });
      return;
    }
    if (status >= 300) {
      const reason: ErrorCode =
        status === 486 || status === 600 || status === 603
          ? 'agent_busy'
          : attempt.cancelled || status === 487 || status === 408 || status === 480
            ? 'agent_no_answer'
            : 'agent_unreachable';
      this.#attemptFailed(attempt, status, reason);
      return;
    }
    this.#onAgentAnswer(attempt, response);
  }

  /**
   * A 183 with SDP from a SIP agent (a PBX's ringback or announcement) is early
   * media: for a SIP visitor with one agent ringing, the relay joins the legs
   * now and the 183 goes on with our SDP. Browsers' legs and forked rings get a
   * plain 180. True when handled here.
   */
  #earlyMedia(attempt: Attempt, response: SipResponse): boolean {
    const visitorMedia = this.#visitorMedia;
    const router = this.#router;
    if (
      !visitorMedia ||
      !router ||
      visitorMedia.kind === 'webrtc' ||
      attempt.media.kind === 'webrtc'
    )
      return false;
    if (this.#ringing.size !== 1) return false;
    const early = readLegSdp(response.body);
    if (!early) return false;
    aim(attempt.media, early);
    router.pipe(visitorMedia, attempt.media);
    const sdp = relaySdp(early, visitorMedia, this.#lastSdp.visitor);
    this.#lastSdp.visitor = sdp;
    this.#deps.stack.respond(this.#init.tx, 183, {
      toTag: this.#visitorTag,
      headers: [['Contact', `<${this.#visitorContact}>`]],
      contentType: 'application/sdp',
      body: sdpText(sdp),
    });
    return true;
  }

  #onAgentAnswer(attempt: Attempt, response: SipResponse): void {
    const stack = this.#deps.stack;
    // A retransmitted 2xx: ACK it again (RFC 3261 §13.2.2.4).
    if (attempt.dialog) {
      if (attempt.ack) void stack.transactions.sendAck(attempt.ack, attempt.dialog.target());
      return;
    }
    const dialog = Dialog.asUac(
      attempt.invite,
      response,
      attempt.ict.sentOn,
      attempt.invite.headers.get('contact')?.replace(/^<|>$/g, '') ?? '',
    );
    attempt.dialog = dialog;
    attempt.ack = dialog.createRequest('ACK', { cseq: attempt.invite.cseq.seq });
    void stack.transactions.sendAck(attempt.ack, dialog.target());

    const answer = readLegSdp(response.body);
    if (this.state === 'ended' || this.#connected || attempt.cancelled || !answer) {
      // Answered too late (the visitor hung up, another agent won, we gave up), or without usable SDP.
      this.#sendBye(dialog, answer ? 'cancelled' : 'offer_required');
      this.#attemptFailed(
        attempt,
        answer ? 200 : 488,
        answer ? 'answered_elsewhere' : 'agent_unreachable',
      );
      return;
    }
    attempt.record.status = 200;
    this.#connected = attempt;
    attempt.stopRinging();
    this.#ringing.delete(attempt);
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    // The other forks: this call was answered elsewhere (RFC 3326 cause 200).
    for (const other of [...this.#ringing]) this.#cancelAttempt(other, 'answered_elsewhere');
    this.record.agentCallId = attempt.record.callId;
    this.record.agentId = attempt.agent.id;
    this.#endCall = this.#deps.agents.callStarted(attempt.agent.id);
    // Joining the legs must finish in bounded time (a stuck WebRTC answer would leave
    // both parties in silence with no one to end the call).
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('joining the legs timed out')), CONNECT_TIMEOUT_MS);
    });
    void Promise.race([this.#connect(attempt, dialog, answer), timeout])
      .catch((error: unknown) => {
        this.#log.error({ err: error }, 'the answered call could not be connected');
        this.end({ outcome: 'failed', endedBy: 'gateway', reason: 'offer_required' });
      })
      .finally(() => clearTimeout(timer));
  }

  /** Joins the legs once the agent answered: media, the visitor's 200, both dialogs. */
  async #connect(attempt: Attempt, dialog: Dialog, answer: LegSdp): Promise<void> {
    const stack = this.#deps.stack;
    const visitorMedia = this.#visitorMedia;
    const agentMedia = attempt.media;
    const router = this.#router;
    if (!visitorMedia || !router) return;
    let chosen = chosenCodec(answer);
    if (agentMedia.kind === 'webrtc') {
      const codec = await agentMedia.accept(sdpText(answer.sdp));
      chosen = { codec, telephoneEvent: undefined };
    } else {
      aim(agentMedia, answer);
      // What we offered this agent: later SDP on its leg continues its o= line (RFC 3264 §8).
      this.#lastSdp.agent = readLegSdp(attempt.invite.body)?.sdp;
    }
    if (this.#ended()) return; // the visitor gave up meanwhile
    let visitorBody: string;
    if (visitorMedia.kind === 'webrtc' || agentMedia.kind === 'webrtc') {
      // The visitor gets exactly the agent's codec: no transcoding.
      if (!chosen) {
        this.#sendBye(dialog, 'offer_required');
        this.end({ outcome: 'failed', endedBy: 'gateway', reason: 'offer_required', status: 488 });
        return;
      }
      this.#agentCodec = chosen;
      visitorBody =
        visitorMedia.kind === 'webrtc'
          ? await visitorMedia.answer(
              this.#init.invite.body.toString('utf8'),
              chosen.codec,
              chosen.telephoneEvent,
            )
          : sdpText(plainAnswer(this.#offer, chosen.codec, visitorMedia, String(Date.now())));
      if (this.#ended()) return; // the visitor gave up while we answered
    } else {
      const visitorSdp = relaySdp(answer, visitorMedia, this.#lastSdp.visitor);
      this.#lastSdp.visitor = visitorSdp;
      visitorBody = sdpText(visitorSdp);
    }
    router.pipe(visitorMedia, agentMedia);
    stack.respond(this.#init.tx, 200, {
      toTag: this.#visitorTag,
      headers: [
        ['Contact', `<${this.#visitorContact}>`],
        ['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE'],
      ],
      contentType: 'application/sdp',
      body: visitorBody,
    });
    this.#visitorDialog = Dialog.asUas(
      this.#init.invite,
      this.#visitorTag,
      this.#init.flow,
      this.#visitorContact,
    );
    this.#unfile.push(stack.addDialog(this.#visitorDialog, this.#usage('visitor')));
    this.#unfile.push(stack.addDialog(dialog, this.#usage('agent')));
    this.record.sipStatus = 200;
    this.#transition('answered');
    this.emit('answered', attempt.agent.id);
    this.#log.info(
      {
        agent: attempt.agent.id,
        setupMs: this.#now() - this.record.createdAt,
        webrtc: this.#webrtc,
      },
      'call answered',
    );
  }

  /**
   * The agent put the visitor on hold or took them off it: from the desk, or a
   * phone's re-INVITE toward a browser leg (which the gateway answers itself).
   * A browser visitor hears silence either way; this tells the widget why.
   */
  agentHold(held: boolean): void {
    if (held === this.#held || !this.#connected || this.state === 'ended') return;
    this.#held = held;
    this.#log.info({ held }, held ? 'agent put the visitor on hold' : 'agent resumed the call');
    this.emit('hold', held);
    this.sendToVisitor(
      JSON.stringify({
        type: 'notice',
        code: 'hold',
        held,
        reason: held ? 'the agent put the call on hold' : 'the agent resumed the call',
      }),
    );
  }

  /** Whether the agent has the visitor on hold. */
  get held(): boolean {
    return this.#held;
  }

  /** Sends a data-channel message to the visitor; false when the channel is not open. */
  sendToVisitor(text: string): boolean {
    const media = this.#visitorMedia;
    return media?.kind === 'webrtc' ? media.sendMessage(text) : false;
  }

  #attemptFailed(attempt: Attempt, status: number, reason: ErrorCode | 'answered_elsewhere'): void {
    if (attempt.record.endedAt !== undefined) return;
    attempt.record.endedAt = this.#now();
    attempt.record.status ??= status;
    attempt.record.reason ??= reason;
    attempt.stopRinging();
    this.#ringing.delete(attempt);
    if (attempt !== this.#connected) attempt.media.close();
    if (this.state === 'ended' || this.#connected) return;
    if (reason !== 'answered_elsewhere') this.#lastFailure = reason;
    this.#log.info({ agent: attempt.agent.id, status, reason }, 'agent leg failed');
    if (this.#ringing.size === 0) {
      if (this.#batchTimer) clearTimeout(this.#batchTimer);
      void this.#ringNext();
    }
  }

  #cancelAttempt(attempt: Attempt, reason: string): void {
    if (attempt.cancelled || attempt.dialog) return;
    attempt.cancelled = true;
    attempt.record.reason ??= reason;
    attempt.stopRinging();
    attempt.ict.cancel((cancel) => {
      cancel.headers.set(
        'Reason',
        reason === 'answered_elsewhere'
          ? 'SIP;cause=200;text="Call completed elsewhere"'
          : `SIP;cause=487;text="${reason}"`,
      );
      this.#deps.stack.transactions.sendCancel(cancel, attempt.ict);
    });
    // The visitor does not wait for the phone's 487: a phone that went away or
    // froze may never send one (the INVITE transaction would last 64×T1, 32 s).
    // The next agent rings now; a 2xx that still comes is ACKed and sent a BYE.
    if (reason === 'agent_away' || reason === 'agent_no_answer')
      this.#attemptFailed(attempt, 487, reason);
  }

  #sendBye(dialog: Dialog, reason: string): void {
    const bye = dialog.createRequest('BYE', {
      headers: [
        isCode(reason) ? reasonHeader(reason) : ['Reason', `SIP;cause=200;text="${reason}"`],
      ],
    });
    this.#deps.stack.transactions.request(bye, dialog.target());
  }

  /** In-dialog requests of an answered call, per leg. */
  #usage(side: 'visitor' | 'agent'): DialogUsage {
    return {
      onAck: () => undefined, // 2xx ACKs stop our retransmissions in the transaction layer
      onRequest: (request, tx) => this.#inDialog(side, request, tx),
    };
  }

  #inDialog(side: 'visitor' | 'agent', request: SipRequest, tx: ServerTransaction): void {
    const stack = this.#deps.stack;
    const own = side === 'visitor' ? this.#visitorDialog : this.#connected?.dialog;
    const other = side === 'visitor' ? this.#connected?.dialog : this.#visitorDialog;
    if (!own || !other) {
      stack.respond(tx, 481);
      return;
    }
    if (!own.acceptRemoteSeq(request)) {
      stack.respond(tx, 500, { reason: 'CSeq Out Of Order' });
      return;
    }
    switch (request.method) {
      case 'BYE':
        stack.respond(tx, 200);
        this.end({ outcome: 'answered', endedBy: side, reason: 'normal_clearing' });
        return;
      case 'INVITE':
        this.#forwardReinvite(side, request, tx, own, other);
        return;
      case 'INFO':
        if (side === 'visitor' && this.#dtmfAsEvents(request, tx)) return;
        this.#forwardInfo(request, tx, other);
        return;
      case 'OPTIONS':
        stack.respond(tx, 200);
        return;
      case 'UPDATE':
        if (request.body.length === 0) stack.respond(tx, 200);
        else stack.respond(tx, 488, { reason: 'Use re-INVITE To Change Media' });
        return;
      default:
        stack.respond(tx, 405, {
          headers: [['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE']],
        });
    }
  }

  /** Hold, resume, codec change: the re-INVITE goes to the other leg, its answer comes back. */
  #forwardReinvite(
    side: 'visitor' | 'agent',
    request: SipRequest,
    tx: ServerTransaction,
    own: Dialog,
    other: Dialog,
  ): void {
    const stack = this.#deps.stack;
    if (this.#pendingReinvite) {
      stack.respond(tx, 491); // RFC 3261 §14.2: glare
      return;
    }
    const offer = readLegSdp(request.body);
    const agentMedia = this.#connected?.media;
    const fromMedia = side === 'visitor' ? this.#visitorMedia : agentMedia;
    const toMedia = side === 'visitor' ? agentMedia : this.#visitorMedia;
    if (!offer || !fromMedia || !toMedia) {
      stack.respond(tx, 488);
      return;
    }
    if (fromMedia.kind === 'webrtc') {
      // Renegotiating a browser's WebRTC session is not supported.
      stack.respond(tx, 488, { reason: 'Renegotiation Not Supported' });
      return;
    }
    if (toMedia.kind === 'webrtc') {
      // The browser leg cannot be renegotiated: the gateway answers the agent's hold/resume itself.
      own.refreshTarget(request);
      aim(fromMedia, offer);
      // RFC 6337 §5.3: sendonly or inactive from the agent is hold.
      const offered = offerDirection(offer);
      this.agentHold(offered === 'sendonly' || offered === 'inactive');
      const answer = localAnswer(offer, fromMedia, this.#lastSdp[side]);
      this.#lastSdp[side] = answer;
      stack.respond(tx, 200, {
        contentType: 'application/sdp',
        body: sdpText(answer),
        headers: [['Contact', `<${own.localContact}>`]],
      });
      return;
    }
    own.refreshTarget(request);
    this.#pendingReinvite = true;
    const otherSide = side === 'visitor' ? 'agent' : 'visitor';
    const relayed = relaySdp(offer, toMedia, this.#lastSdp[otherSide]);
    this.#lastSdp[otherSide] = relayed;
    const reinvite = other.createRequest('INVITE', {
      body: sdpText(relayed),
      contentType: 'application/sdp',
    });
    const ict = stack.transactions.request(reinvite, other.target());
    const finish = (status: number, answer?: LegSdp) => {
      this.#pendingReinvite = false;
      if (answer) {
        aim(fromMedia, offer);
        aim(toMedia, answer);
        const back = relaySdp(answer, fromMedia, this.#lastSdp[side]);
        this.#lastSdp[side] = back;
        stack.respond(tx, 200, {
          contentType: 'application/sdp',
          body: sdpText(back),
          headers: [['Contact', `<${own.localContact}>`]],
        });
      } else {
        stack.respond(tx, status);
      }
    };
    ict.on('response', (response) => {
      if (response.status < 200) return;
      if (response.status < 300) {
        const ack = other.createRequest('ACK', { cseq: reinvite.cseq.seq });
        void stack.transactions.sendAck(ack, other.target());
        if (this.#pendingReinvite) {
          other.refreshTarget(response);
          const answer = readLegSdp(response.body);
          finish(answer ? 200 : 488, answer);
        }
        return;
      }
      finish(response.status);
    });
    ict.on('timeout', () => finish(408));
    ict.on('transportError', () => finish(503));
  }

  /**
   * A browser's DTMF arrives as INFO (application/dtmf-relay); when the agent
   * negotiated telephone-event, it goes on as RFC 4733 events in the audio
   * stream, which every phone and PBX understands. True when handled here.
   */
  #dtmfAsEvents(request: SipRequest, tx: ServerTransaction): boolean {
    const media = this.#visitorMedia;
    const type = (request.contentType ?? '').split(';')[0]?.trim().toLowerCase();
    if (
      media?.kind !== 'webrtc' ||
      type !== 'application/dtmf-relay' ||
      !this.#agentCodec?.telephoneEvent
    )
      return false;
    const body = request.body.toString('utf8');
    const digit = /Signal\s*=\s*([0-9*#A-Da-d])/.exec(body)?.[1];
    const duration = Number(/Duration\s*=\s*(\d+)/.exec(body)?.[1] ?? 160);
    if (!digit) {
      this.#deps.stack.respond(tx, 400, { reason: 'Bad DTMF Relay Body' });
      return true;
    }
    this.#deps.stack.respond(tx, 200);
    void media.sendDtmf(digit, Math.min(Math.max(duration, 40), 2000));
    this.#log.debug({ digit }, 'DTMF sent to the agent as RFC 4733 events');
    return true;
  }

  /** INFO (DTMF from browsers, RFC 6086 packages) passes to the other leg unchanged. */
  #forwardInfo(request: SipRequest, tx: ServerTransaction, other: Dialog): void {
    const stack = this.#deps.stack;
    const headers: [string, string][] = [];
    for (const name of ['Info-Package', 'Content-Disposition']) {
      const value = request.headers.get(name);
      if (value) headers.push([name, value]);
    }
    const info = other.createRequest('INFO', {
      headers,
      ...(request.body.length > 0
        ? { body: request.body, contentType: request.contentType ?? 'application/octet-stream' }
        : {}),
    });
    const nict = stack.transactions.request(info, other.target());
    nict.on('response', (response) => {
      if (response.status >= 200) stack.respond(tx, response.status);
    });
    nict.on('timeout', () => stack.respond(tx, 408));
    nict.on('transportError', () => stack.respond(tx, 503));
  }

  #displayName(): string {
    const name = this.#init.token.privateClaims.name;
    const display =
      typeof name === 'string' && name.trim()
        ? name.trim()
        : (this.#deps.tenantName(this.record.tenant) ?? this.#number.number);
    // Printable, bounded: it lands on a desk phone's screen.
    // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
    return display.replace(/[\u0000-\u001f\u007f"\\]/g, ' ').slice(0, 64);
  }

  #mediaStats(): Record<string, unknown> | null {
    const v = this.#visitorMedia?.stats();
    const a = this.#connected?.media.stats();
    if (!v || !a) return null;
    return {
      visitor: { packetsIn: v.packetsIn, packetsOut: v.packetsOut, latchedTo: v.latchedTo ?? null },
      agent: { packetsIn: a.packetsIn, packetsOut: a.packetsOut, latchedTo: a.latchedTo ?? null },
    };
  }
}

/** Runs `first` then `then`, once, however often it is called. */
function once(first: () => void, then: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    first();
    then();
  };
}

function isCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

function outcomeOf(reason: ErrorCode): CallOutcome {
  switch (reason) {
    case 'agent_busy':
      return 'busy';
    case 'agent_no_answer':
      return 'no_answer';
    case 'no_agent_available':
      return 'no_agent';
    default:
      return 'failed';
  }
}
