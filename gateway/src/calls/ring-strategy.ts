/**
 * Which agents ring for a call, and when: the best candidates not tried yet
 * (value band, longest idle), one at a time (`sequential`) or the top
 * `ringAtOnce` together (`simultaneous`, the first to answer wins and the
 * others are cancelled as completed elsewhere). A batch that failed or timed
 * out makes way for the next; after `maxAttempts` agents, or when no one is
 * left, the strategy is exhausted and says why. An agent who goes away or
 * offline while ringing is cancelled at once.
 *
 * The strategy makes its legs through `dial` (the call owns them) and reports:
 * `ringing`/`stopped` per agent (the desk), `progress` (180/183 for the
 * caller), `answered` (the winning leg) or `exhausted`.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ErrorCode } from '@parley/shared/errors';
import {
  reachableContact,
  type AgentContact,
  type AgentDirectory,
  type AgentPresence,
} from '../agents/index.js';
import type { Logger } from '../observability/index.js';
import {
  rankCandidates,
  type QueueSettings,
  type RoutingDecision,
  type ValueEvaluation,
} from '../routing/index.js';
import type { SipResponse } from '../sip/index.js';
import type { CallAttempt } from '../storage/index.js';
import type { OutboundLeg } from './outbound-leg.js';
import { failureReason } from './ring-outcome.js';
import type { LegSdp } from './sdp-bridge.js';

/**
 * Where the strategy writes what it tried: a call's record keeper
 * (`call-record.ts`), or another owner of agent legs (a callback's attempt).
 */
export interface RingRecord {
  readonly record: { readonly createdAt: number; routing: Record<string, unknown> | null };
  /** An agent leg was sent. */
  attemptStarted(agentId: string, callId: string): CallAttempt;
  /** An agent leg is over; status and reason keep what was said first. */
  attemptEnded(attempt: CallAttempt, status?: number, reason?: string): void;
  /** An attempt's reason, said before its leg ended (a CANCEL's reason). */
  attemptReason(attempt: CallAttempt, reason: string): void;
  /** The agent who took the call. */
  answeredBy(attempt: CallAttempt): void;
}

export interface RingStrategyDeps {
  readonly agents: AgentDirectory;
  readonly queue: QueueSettings;
  readonly queueName: string;
  readonly tenant: string;
  readonly record: RingRecord;
  readonly log: Logger;
  readonly now: () => number;
  /** Makes (not starts) a leg to the agent at that contact; throws when it cannot be reached. */
  readonly dial: (
    agent: AgentPresence,
    contact: AgentContact,
    tried: number,
  ) => Promise<OutboundLeg>;
  /** Whether the call still wants an agent (not ended meanwhile). */
  readonly wanted: () => boolean;
}

export interface RingStrategyEvents {
  /** The agent's phone (or desk) started ringing for this call. */
  ringing: [agentId: string];
  /** It stopped without taking the call (timeout, busy, answered elsewhere, cancelled). */
  stopped: [agentId: string];
  /** A provisional response of a ringing agent's leg, with early SDP for a 183. */
  progress: [OutboundLeg, SipResponse, LegSdp | undefined];
  /** An agent answered: the leg is the call's to bridge; the others are being cancelled. */
  answered: [OutboundLeg, AgentPresence];
  /** No agent took the call, and none is left to try: why. */
  exhausted: [ErrorCode];
}

interface Attempt {
  readonly agent: AgentPresence;
  readonly leg: OutboundLeg;
  readonly record: CallAttempt;
  readonly stopRinging: () => void;
  /** This leg's claim on one of the agent's slots, cluster-wide (`AgentLocks`). */
  readonly holder: string;
  cancelled: boolean;
  over: boolean;
}

export class RingStrategy extends EventEmitter<RingStrategyEvents> {
  readonly #deps: RingStrategyDeps;
  /** Agents rung (what `maxAttempts` counts). */
  readonly #tried = new Set<string>();
  /**
   * Agents this gateway's view showed free whose cluster-wide slot claim was
   * refused (busy on another gateway): never rung, so not counted against
   * `maxAttempts`, only passed over. Every gateway ranks the same agents
   * first; counting them made a cluster of three refuse calls `agent_busy`
   * with most agents free (bench/src/scale-out.ts, 3 gateways at 40/s).
   */
  readonly #taken = new Set<string>();
  /** Agent legs ringing now (one, or several with simultaneous ringing). */
  readonly #ringing = new Set<Attempt>();
  #batchTimer: NodeJS.Timeout | undefined;
  #winner: Attempt | undefined;
  #decision: RoutingDecision | undefined;
  #lastFailure: ErrorCode = 'no_agent_available';
  #closed = false;

  constructor(deps: RingStrategyDeps) {
    super();
    this.#deps = deps;
  }

  /** The routing decision, once made (with a value service). */
  get decision(): RoutingDecision | undefined {
    return this.#decision;
  }

  /** Agents whose phones ring right now. */
  get ringingAgents(): string[] {
    return [...this.#ringing].filter((a) => !a.cancelled).map((a) => a.agent.id);
  }

  /** Legs ringing now, cancelled ones included until they end. */
  get ringingLegs(): number {
    return this.#ringing.size;
  }

  /** Rings the first batch; resolves once it is on its way (or the strategy is exhausted). */
  start(value?: ValueEvaluation): Promise<void> {
    return this.#ringNext(value);
  }

  /** An agent who went away or offline while ringing is cancelled; the next one rings. */
  agentChanged(presence: AgentPresence): void {
    // A ringing agent's state reads 'ringing': look at what it chose and whether it is reachable.
    if (presence.availability !== 'away' && presence.registered) return;
    for (const attempt of this.#ringing) {
      if (attempt.agent.id !== presence.id || attempt.cancelled || attempt.leg.state === 'answered')
        continue;
      this.#deps.log.info(
        {
          agent: presence.id,
          availability: presence.availability,
          registered: presence.registered,
        },
        'agent left while ringing',
      );
      this.#lastFailure = 'agent_away';
      this.#cancel(attempt, 'agent_away');
    }
  }

  /** Stops: cancels the legs still ringing with `reason` (the call ended). Safe twice. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    for (const attempt of [...this.#ringing]) this.#cancel(attempt, reason);
  }

  #over(): boolean {
    return this.#closed || this.#winner !== undefined || !this.#deps.wanted();
  }

  async #ringNext(value?: ValueEvaluation): Promise<void> {
    if (this.#over()) return;
    const { queue, record } = this.#deps;
    if (this.#tried.size >= queue.maxAttempts) {
      this.emit('exhausted', this.#lastFailure);
      return;
    }
    const ranked = rankCandidates(
      this.#deps.agents,
      {
        tenant: this.#deps.tenant,
        queue: this.#deps.queueName,
        valueTier: this.#decision?.tier ?? value?.result.tier,
        routing: queue.routing,
        exclude: new Set([...this.#tried, ...this.#taken]),
      },
      this.#deps.now(),
    ).filter((c) => this.#contactOf(c.agent.id) !== undefined);
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
        decidedInMs: Math.max(0, this.#deps.now() - record.record.createdAt),
      };
      record.record.routing = this.#decision as unknown as Record<string, unknown>;
      this.#deps.log.info(
        { value: this.#decision.value, tier: this.#decision.tier, candidates: ranked.length },
        'routing decided',
      );
    }
    if (ranked.length === 0) {
      this.emit(
        'exhausted',
        this.#tried.size === 0 && this.#taken.size === 0 ? 'no_agent_available' : this.#lastFailure,
      );
      return;
    }
    const size =
      queue.routing.strategy === 'simultaneous' ? Math.max(1, queue.routing.ringAtOnce) : 1;
    const batch = ranked.slice(0, Math.min(size, queue.maxAttempts - this.#tried.size));
    for (const { agent } of batch) this.#tried.add(agent.id);
    const attempts = await Promise.all(batch.map(({ agent }) => this.#ring(agent)));
    if (attempts.every((a) => a === undefined)) {
      // None could even be sent (no route, no media ports): on to the next ones.
      await this.#ringNext();
      return;
    }
    if (this.#over()) return;
    this.#batchTimer = setTimeout(() => {
      this.#batchTimer = undefined;
      for (const attempt of [...this.#ringing]) {
        if (attempt.leg.state === 'answered') continue;
        this.#deps.log.info({ agent: attempt.agent.id }, 'agent did not answer in time');
        this.#lastFailure = 'agent_no_answer';
        this.#cancel(attempt, 'agent_no_answer');
      }
    }, queue.ringTimeoutSeconds * 1000);
  }

  #contactOf(agentId: string): AgentContact | undefined {
    return reachableContact(this.#deps.agents.get(agentId)?.contacts ?? [], this.#deps.now());
  }

  async #ring(agent: AgentPresence): Promise<Attempt | undefined> {
    const contact = this.#contactOf(agent.id);
    if (!contact || this.#over()) return undefined;
    // Another gateway of the cluster may be ringing (or talking to) this agent:
    // the shared claim says whether one of its slots is free.
    const locks = this.#deps.agents.locks;
    const holder = randomUUID();
    const claimMs = (this.#deps.queue.ringTimeoutSeconds + CLAIM_MARGIN_SECONDS) * 1000;
    if (!(await locks.claim(agent.id, agent.maxCalls, holder, claimMs))) {
      this.#deps.log.info({ agent: agent.id }, 'agent is taken on another gateway');
      this.#tried.delete(agent.id);
      this.#taken.add(agent.id);
      this.#lastFailure = 'agent_busy';
      return undefined;
    }
    let leg: OutboundLeg;
    try {
      leg = await this.#deps.dial(agent, contact, this.#tried.size);
    } catch (error) {
      locks.release(agent.id, holder);
      this.#deps.log.warn(
        { err: error, agent: agent.id, contact: contact.uri },
        'agent leg could not be made',
      );
      this.#lastFailure = 'agent_unreachable';
      return undefined;
    }
    if (this.#over()) {
      locks.release(agent.id, holder);
      leg.close('cancelled');
      return undefined;
    }
    const attempt: Attempt = {
      agent,
      leg,
      holder,
      record: this.#deps.record.attemptStarted(agent.id, leg.callId),
      stopRinging: once(this.#deps.agents.ringStarted(agent.id), () => {
        if (this.#winner?.agent.id !== agent.id) {
          locks.release(agent.id, holder);
          this.emit('stopped', agent.id);
        }
      }),
      cancelled: false,
      over: false,
    };
    this.#ringing.add(attempt);
    leg.on('progress', (response, early) => {
      if (this.#ringing.has(attempt) && !this.#over()) this.emit('progress', leg, response, early);
    });
    leg.on('answered', () => this.#answered(attempt));
    leg.on('failed', (failure) => this.#failed(attempt, failure.status, failureReason(failure)));
    leg.on('ended', (end) => {
      if (attempt === this.#winner) {
        locks.release(agent.id, holder);
        this.#deps.record.attemptEnded(attempt.record);
      } else if (end.cause === 'cancelled')
        this.#failed(
          attempt,
          end.status ?? 487,
          end.status === 200 ? 'answered_elsewhere' : 'agent_no_answer',
        );
    });
    this.emit('ringing', agent.id);
    this.#deps.log.info(
      { agent: agent.id, contact: contact.uri, agentCallId: leg.callId },
      'ringing agent',
    );
    leg.start();
    return attempt;
  }

  #answered(attempt: Attempt): void {
    if (this.#over() || attempt.over) {
      // Answered too late: the caller hung up, another agent won, we gave up.
      attempt.leg.close('cancelled');
      this.#failed(attempt, 200, 'answered_elsewhere');
      return;
    }
    this.#winner = attempt;
    this.#deps.agents.locks.hold(attempt.agent.id, attempt.holder);
    this.#deps.record.answeredBy(attempt.record);
    attempt.stopRinging();
    this.#ringing.delete(attempt);
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    // The other forks: this call was answered elsewhere (RFC 3326 cause 200).
    for (const other of [...this.#ringing]) this.#cancel(other, 'answered_elsewhere');
    this.emit('answered', attempt.leg, attempt.agent);
  }

  #failed(attempt: Attempt, status: number, reason: ErrorCode | 'answered_elsewhere'): void {
    if (attempt.over || attempt === this.#winner) return;
    attempt.over = true;
    this.#deps.record.attemptEnded(attempt.record, status, reason);
    attempt.stopRinging();
    this.#ringing.delete(attempt);
    attempt.leg.close(reason);
    if (this.#over()) return;
    if (reason !== 'answered_elsewhere') this.#lastFailure = reason;
    this.#deps.log.info({ agent: attempt.agent.id, status, reason }, 'agent leg failed');
    if (this.#ringing.size === 0) {
      if (this.#batchTimer) clearTimeout(this.#batchTimer);
      void this.#ringNext();
    }
  }

  #cancel(attempt: Attempt, reason: string): void {
    if (attempt.cancelled || attempt.leg.state === 'answered') return;
    attempt.cancelled = true;
    this.#deps.record.attemptReason(attempt.record, reason);
    attempt.stopRinging();
    attempt.leg.cancel(reason);
    // The caller does not wait for the phone's 487: a phone that went away or
    // froze may never send one (the INVITE transaction would last 64×T1, 32 s).
    // The next agent rings now; a 2xx that still comes is ACKed and sent a BYE.
    if (reason === 'agent_away' || reason === 'agent_no_answer') this.#failed(attempt, 487, reason);
  }
}

/** A ringing leg's claim outlives its ring timeout by this much, in case its gateway dies. */
const CLAIM_MARGIN_SECONDS = 30;

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
