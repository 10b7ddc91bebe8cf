/**
 * Dialling a queue's agents for a call: the ring strategy picks and rings
 * them (each an outbound leg the call owns), their ringing and early media
 * reach the caller, and the one who answers is joined to the caller's leg
 * (`join-legs.ts`) in bounded time. What a flow's `dial` of a queue will run.
 */
import { EventEmitter } from 'node:events';
import type { ErrorCode } from '@parley/shared/errors';
import type { PrivateClaims } from '@parley/shared/tokens';
import type { AgentContact, AgentPresence } from '../agents/index.js';
import type { MediaRouter } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import type { QueueSettings, RoutingDecision, ValueEvaluation } from '../routing/index.js';
import { agentLeg } from './agent-request.js';
import type { CallDeps } from './call-types.js';
import type { CallEnd, CallRecordKeeper } from './call-record.js';
import type { InboundLeg } from './inbound-leg.js';
import {
  joinAnswered,
  passEarlyMedia,
  passEarlyMediaAnswered,
  withTimeout,
  type JoinContext,
} from './join-legs.js';
import type { OutboundLeg } from './outbound-leg.js';
import { evaluateValue } from './customer-value.js';
import { RingStrategy } from './ring-strategy.js';
import { phoneAgentLeg } from './trunk-agent-leg.js';
import type { ChosenCodec, LegSdp } from './sdp-bridge.js';

/** How long joining the legs after the agent's answer may take (WebRTC answer, piping). */
const CONNECT_TIMEOUT_MS = 10_000;

/** What dialling needs of its call. @internal */
export interface AgentDialHost {
  readonly callId: string;
  readonly deps: CallDeps;
  /** The queue whose agents are rung. */
  readonly queue: string;
  /** The caller as agents' phones show it (number, display name). */
  readonly identity: { readonly number: string; readonly displayName: string };
  /** The token's private claims, for value providers (empty for a trunk call). */
  readonly privateClaims: PrivateClaims;
  readonly caller: InboundLeg;
  readonly keeper: CallRecordKeeper;
  readonly log: Logger;
  router(): MediaRouter | undefined;
  /** The codec the gateway answered the caller with itself, if it did. */
  gatewayCodec(): ChosenCodec | undefined;
  /** The gateway answered the caller early in a 180 and plays it nothing: it hears its own ringback. */
  gatewayRingback(): boolean;
  /** An agent's early media is bridged to the caller the gateway answered early: 180 to 183. */
  gatewayEarlyMedia(): void;
  /** The gateway's answer to the caller is made (`GatewayAnswer.made`): false when it failed. */
  gatewayMade(): Promise<boolean>;
  ending(): boolean;
  /** The call takes the new leg (it closes it when the call ends). */
  adopt(leg: OutboundLeg): void;
  bridge(a: InboundLeg, b: OutboundLeg): void;
  ringing(): void;
  end(how: CallEnd): void;
}

export interface AgentDialEvents {
  ringing: [agentId: string];
  stopped: [agentId: string];
  /** The agent's leg is joined to the caller's: the call is answered. */
  connected: [OutboundLeg, agentId: string];
  /** No agent took the call and none is left to ring: why. */
  exhausted: [ErrorCode];
}

export class AgentDial extends EventEmitter<AgentDialEvents> {
  readonly #host: AgentDialHost;
  readonly #ring: RingStrategy;
  readonly #queue: QueueSettings;
  readonly #now: () => number;
  readonly #identity: { readonly number: string; readonly displayName: string };
  #agent: { readonly leg: OutboundLeg; readonly id: string } | undefined;
  #endCall: ((wrapUpSeconds?: number) => void) | undefined;
  #valuing: Promise<ValueEvaluation | undefined> | undefined;
  #started: Promise<void> | undefined;

  constructor(host: AgentDialHost) {
    super();
    this.#host = host;
    const { deps, keeper } = host;
    const record = keeper.record;
    this.#queue = deps.queue(host.queue);
    this.#now = deps.now ?? Date.now;
    this.#identity = host.identity;
    this.#ring = new RingStrategy({
      agents: deps.agents,
      queue: this.#queue,
      queueName: host.queue,
      tenant: record.tenant,
      record: keeper,
      log: host.log,
      now: this.#now,
      dial: (agent, contact, tried) => this.#dial(agent.id, contact, tried),
      wanted: () => !host.ending() && !this.#agent,
    });
    this.#ring.on('ringing', (id) => this.emit('ringing', id));
    this.#ring.on('stopped', (id) => this.emit('stopped', id));
    this.#ring.on('progress', (leg, _response, early) => this.#progress(leg, early));
    this.#ring.on('answered', (leg, agent) => this.#answered(leg, agent));
    this.#ring.on('exhausted', (reason) => this.emit('exhausted', reason));
  }

  get decision(): RoutingDecision | undefined {
    return this.#ring.decision;
  }

  get ringingAgents(): string[] {
    return this.#ring.ringingAgents;
  }

  /** The agent who answered (joined or being joined), and their leg. */
  get agent(): { readonly leg: OutboundLeg; readonly id: string } | undefined {
    return this.#agent;
  }

  /** Starts computing the customer's value (the tenant's providers, in parallel with the call's set-up). */
  evaluate(): Promise<ValueEvaluation | undefined> {
    const { deps, privateClaims, keeper, log } = this.#host;
    this.#valuing ??= evaluateValue(deps.value, keeper.record.tenant, privateClaims, log);
    return this.#valuing;
  }

  /** Rings the first agents (once); resolves once their legs are on their way. */
  start(): Promise<void> {
    this.#started ??= this.evaluate().then((value) =>
      this.#host.ending() ? undefined : this.#ring.start(value),
    );
    return this.#started;
  }

  agentChanged(presence: AgentPresence): void {
    this.#ring.agentChanged(presence);
  }

  /** The call ended: ringing legs are cancelled with `reason`; the agent's wrap-up starts. */
  close(reason: string): void {
    this.#ring.close(reason);
    this.#endCall?.(this.#queue.wrapUpSeconds);
  }

  async #dial(agentId: string, contact: AgentContact, tried: number): Promise<OutboundLeg> {
    const host = this.#host;
    const router = host.router();
    if (!router || router.closed) throw new Error('the call has no media router');
    const record = host.keeper.record;
    // An agent who is a telephone number is called through the trunk (trunk-agent-leg.ts).
    if (contact.phone) {
      const leg = await phoneAgentLeg(
        host,
        agentId,
        contact.phone,
        tried,
        this.#identity.number,
        answeredCodec(host),
      );
      host.adopt(leg);
      return leg;
    }
    const leg = await agentLeg({
      stack: host.deps.stack,
      router,
      logger: host.log,
      domain: host.deps.domain,
      agentId,
      contact,
      caller: host.caller,
      only: answeredCodec(host),
      attempt: tried,
      identity: this.#identity,
      call: { id: host.callId, sessionId: record.sessionId, tenant: record.tenant },
    });
    host.adopt(leg);
    return leg;
  }

  /** A ringing agent's 1xx: ringing (180) for the caller, or its early media (183) passed on. */
  #progress(leg: OutboundLeg, early: LegSdp | undefined): void {
    const host = this.#host;
    if (host.ending() || this.#agent) return;
    host.ringing();
    if (host.gatewayCodec()) {
      // Answered early by the gateway: an agent's early media (a carrier's tone) is heard
      // unless the gateway's own media is (queue music); the caller's ringback stops then.
      // The answer may still be being made (the agent's INVITE left meanwhile): it is waited for.
      if (early) void host.gatewayMade().then((made) => this.#earlyMediaAnswered(leg, early, made));
      return;
    }
    if (early && passEarlyMedia(this.#joinContext(), leg, early, this.#ring.ringingLegs)) return;
    host.caller.ring();
  }

  /** A ringing agent's early media once the gateway's early answer is made: bridged if still wanted. */
  #earlyMediaAnswered(leg: OutboundLeg, early: LegSdp, made: boolean): void {
    const host = this.#host;
    if (!made || host.ending() || this.#agent || leg.state !== 'early') return;
    if (!host.gatewayRingback()) return;
    if (passEarlyMediaAnswered(this.#joinContext(), leg, early, this.#ring.ringingLegs))
      host.gatewayEarlyMedia();
  }

  /** An agent answered: the legs are joined in bounded time (a stuck WebRTC answer would leave both in silence). */
  #answered(leg: OutboundLeg, agent: AgentPresence): void {
    const host = this.#host;
    this.#agent = { leg, id: agent.id };
    this.#endCall = host.deps.agents.callStarted(agent.id);
    withTimeout(
      joinAnswered(this.#joinContext(), leg),
      CONNECT_TIMEOUT_MS,
      'joining the legs timed out',
    ).then(
      (joined) => {
        if (joined === 'joined') {
          host.keeper.legsAnswered(host.caller, leg);
          const setupMs = this.#now() - host.keeper.record.createdAt;
          host.log.info({ agent: agent.id, setupMs, webrtc: host.caller.webrtc }, 'call answered');
          this.emit('connected', leg, agent.id);
        }
        if (joined !== 'codec') return;
        leg.close('offer_required');
        host.end({ outcome: 'failed', endedBy: 'gateway', reason: 'offer_required', status: 488 });
      },
      (error: unknown) => {
        // A join that threw or timed out (a media worker that never made the
        // caller's answer or bridge): the media failed, not the offer.
        host.log.error({ err: error }, 'the answered call could not be connected');
        host.end({ outcome: 'failed', endedBy: 'gateway', reason: 'media_failed' });
      },
    );
  }

  #joinContext(): JoinContext {
    const host = this.#host;
    return {
      caller: host.caller,
      gatewayCodec: host.gatewayCodec(),
      gatewayMade: () => host.gatewayMade(),
      bridge: (a, b) => host.bridge(a, b),
      gone: () => host.ending(),
    };
  }
}

/**
 * The codec the caller was answered with already, which every agent leg is
 * offered alone: the gateway's own answer, or a browser's early-media answer
 * (werift answers an offer once, `join-legs.ts`).
 */
function answeredCodec(host: AgentDialHost): ChosenCodec | undefined {
  return host.gatewayCodec() ?? host.caller.fixedCodec;
}
