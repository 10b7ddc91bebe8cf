/**
 * A call ringing a queue's agents, and what happens when none answers. The
 * dialling (`agent-dial.ts`) is made once: for the visitor's queue when the
 * call is made, or for the queue a flow dials. When no agent takes the call:
 * `agentsExhausted`, then the call ends, unless the ringing was told not to
 * (`endOnNoAgent: false`, a flow's dial) or another module answers instead
 * (`keep()`, voicemail); `skip(reason)` rings no one and reports that at
 * once. Kept apart from `Call` so the call's class is about its life.
 */
import type { EventEmitter } from 'node:events';
import type { ErrorCode } from '@parley/shared/errors';
import type { AgentPresence } from '../agents/index.js';
import type { RoutingDecision, ValueEvaluation } from '../routing/index.js';
import type { CallState } from '../storage/index.js';
import { AgentDial, type AgentDialHost } from './agent-dial.js';
import { callerIdentity } from './agent-request.js';
import type { CallerView } from './caller-view.js';
import type { CallEvents } from './call-types.js';
import type { OutboundLeg } from './outbound-leg.js';
import { outcomeOf } from './ring-outcome.js';

/** What the ringing needs of its call. @internal */
export interface QueueRingingHost extends Omit<
  AgentDialHost,
  'queue' | 'identity' | 'privateClaims' | 'ringing'
> {
  /** The visitor's queue (the token's scope); a trunk call has none until a flow dials one. */
  readonly queue: string | undefined;
  readonly view: CallerView;
  readonly events: Pick<EventEmitter<CallEvents>, 'emit'>;
  /** The call's router and the caller's transport (false when the call ended instead). */
  setUpMedia(): Promise<boolean>;
  transition(next: CallState): void;
}

export class QueueRinging {
  readonly #host: QueueRingingHost;
  #dial: AgentDial | undefined;
  #endOnNoAgent = true;
  #keep = false;
  #skip: ErrorCode | undefined;

  constructor(host: QueueRingingHost) {
    this.#host = host;
    if (host.queue !== undefined) this.#dial = this.#agentDial(host.queue);
  }

  get decision(): RoutingDecision | undefined {
    return this.#dial?.decision;
  }

  get ringingAgents(): string[] {
    return this.#dial?.ringingAgents ?? [];
  }

  /** The agent who answered (joined or being joined), and their leg. */
  get agent(): { readonly leg: OutboundLeg; readonly id: string } | undefined {
    return this.#dial?.agent;
  }

  /** The customer's value for the queue (computed once); undefined without a queue. */
  evaluate(): Promise<ValueEvaluation | undefined> {
    return this.#dial?.evaluate() ?? Promise.resolve(undefined);
  }

  /** Rings the queue's agents (once); resolves once the first legs are on their way. */
  async ring(options: { readonly endOnNoAgent?: boolean; readonly queue?: string }): Promise<void> {
    this.#endOnNoAgent = options.endOnNoAgent ?? true;
    const queue = options.queue ?? this.#host.queue;
    if (!this.#dial && queue !== undefined) this.#dial = this.#agentDial(queue);
    const dial = this.#dial;
    if (!dial || this.#skip) {
      this.#exhausted(this.#skip ?? 'no_agent_available');
      return;
    }
    if (await this.#host.setUpMedia()) await dial.start();
  }

  /** The call stays up when no agent answers, whatever `ring` was told. */
  keep(): void {
    this.#keep = true;
  }

  /** No agent is rung: `agentsExhausted(reason)` at once instead. */
  skip(reason: ErrorCode): void {
    this.#skip = reason;
  }

  agentChanged(presence: AgentPresence): void {
    this.#dial?.agentChanged(presence);
  }

  /** The call ended: ringing legs are cancelled with `reason`; the agent's wrap-up starts. */
  close(reason: string): void {
    this.#dial?.close(reason);
  }

  #agentDial(queue: string): AgentDial {
    const host = this.#host;
    const { deps, view, keeper } = host;
    const record = keeper.record;
    // Agents' phones show the web session's number (S6), or a trunk caller's own number.
    const number = view.trunk
      ? (view.trunk.callerNumber ?? record.sessionNumber)
      : record.sessionNumber;
    const dial = new AgentDial({
      callId: host.callId,
      deps,
      queue,
      identity: callerIdentity(number, view.privateClaims, deps.tenantName(record.tenant)),
      privateClaims: view.privateClaims,
      caller: host.caller,
      keeper,
      log: host.log,
      router: () => host.router(),
      gatewayCodec: () => host.gatewayCodec(),
      gatewayRingback: () => host.gatewayRingback(),
      gatewayEarlyMedia: () => host.gatewayEarlyMedia(),
      gatewayMade: () => host.gatewayMade(),
      ending: () => host.ending(),
      adopt: (leg) => host.adopt(leg),
      bridge: (a, b) => host.bridge(a, b),
      ringing: () => host.transition('ringing'),
      end: (how) => host.end(how),
    });
    dial.on('ringing', (id) => host.events.emit('agentRinging', id));
    dial.on('stopped', (id) => host.events.emit('agentStopped', id));
    dial.on('exhausted', (reason) => this.#exhausted(reason));
    dial.on('connected', (_leg, agentId) => {
      host.transition('answered');
      host.events.emit('answered', agentId);
    });
    return dial;
  }

  #exhausted(reason: ErrorCode): void {
    this.#host.events.emit('agentsExhausted', reason);
    if (this.#endOnNoAgent && !this.#keep)
      this.#host.end({ outcome: outcomeOf(reason), endedBy: 'gateway', reason });
  }
}
