/**
 * What a flow's `dial` rings, by target: an agent (its registered phone or
 * desk, its fixed contact, or its telephone number through a trunk), a queue's free agents now (best first, one
 * after the other within the timeout), a number through a trunk (the session's
 * number as caller ID, S6), or a SIP URI. Every target is offered the codec
 * the gateway answered the caller with, so the bridge needs no transcoding.
 */
import { randomUUID } from 'node:crypto';
import { ParleyError } from '@parley/shared/errors';
import type { AgentContact, AgentDirectory } from '../../agents/index.js';
import { reachableContact } from '../../agents/index.js';
import type { DialAttempt, DialOptions } from '../../flows/ports.js';
import type { DialTarget } from '../../flows/verbs/schema.js';
import type { Logger } from '../../observability/index.js';
import type { SipStack } from '../../sip/index.js';
import type { Trunks } from '../../trunks/index.js';
import { agentLeg, callerIdentity } from '../agent-request.js';
import type { Call } from '../call.js';
import type { OutboundLeg } from '../outbound-leg.js';
import { callerShaped, trunkAgentLeg } from '../trunk-agent-leg.js';
import { dialPhone } from './dial-phone.js';
import { ringLeg } from './leg-bridge.js';

export interface TargetDialerDeps {
  readonly stack: SipStack;
  readonly agents: AgentDirectory;
  readonly trunks: Trunks | undefined;
  readonly domain: string;
  readonly logger: Logger;
  readonly tenantName: (tenant: string) => string | undefined;
  /** Seconds of wrap-up after an agent's call of this queue (the agent's first queue without one). */
  readonly wrapUpSeconds: (queue: string | undefined) => number;
  /** A queue's free agents for a caller of value band `tier`, best first. */
  readonly queueCandidates: (queue: string, tier: string | undefined) => readonly string[];
  readonly now?: () => number;
}

/** An agent's slot is claimed for its ring time and this much more (as a visitor call's ring strategy does). */
const SLOT_CLAIM_MARGIN_SECONDS = 30;

export class TargetDialer {
  readonly #deps: TargetDialerDeps;
  #attempts = 0;

  constructor(deps: TargetDialerDeps) {
    this.#deps = deps;
  }

  /** Rings `target` for `call`; `callerId` is the number the target sees. */
  async dial(
    call: Call,
    target: DialTarget,
    options: DialOptions & { readonly callerId: string; readonly tier: string | undefined },
  ): Promise<DialAttempt> {
    switch (target.type) {
      case 'agent':
        return this.#agent(call, target.agent, options, undefined);
      case 'queue':
        return this.#queue(call, target.queue, options);
      case 'sip':
        return this.#sip(call, target.uri, options);
      case 'phone': {
        const trunks = this.#deps.trunks;
        if (!trunks) return { status: 'failed', reason: 'trunk_not_allowed' };
        return dialPhone(call, trunks, {
          number: target.number,
          trunk: target.trunk,
          callerId: options.callerId,
          timeoutSeconds: options.timeoutSeconds,
          signal: options.signal,
          stack: this.#deps.stack,
          logger: this.#deps.logger,
        });
      }
    }
  }

  async #agent(
    call: Call,
    agentId: string,
    options: DialOptions & { readonly callerId: string },
    queue: string | undefined,
  ): Promise<DialAttempt> {
    const { agents, now = Date.now } = this.#deps;
    const presence = agents.get(agentId);
    if (!presence || presence.tenant !== call.tenant)
      return { status: 'failed', reason: 'unknown_agent' };
    const contact = reachableContact(presence.contacts, now());
    if (!contact) return { status: 'failed', reason: 'agent_unreachable' };
    if (presence.state === 'busy' || presence.state === 'offline')
      return { status: 'busy', reason: 'agent_busy' };
    // Ringing from now (synchronously): a visitor's ring strategy skips an agent being offered.
    const stopRinging = agents.ringStarted(agentId);
    // In a cluster the agent may be ringing or talking on another gateway: one
    // of its call slots must be free (held while the call lasts, as a visitor
    // call's ring strategy does). Alone, always granted.
    const holder = randomUUID();
    const claimMs = (options.timeoutSeconds + SLOT_CLAIM_MARGIN_SECONDS) * 1000;
    if (!(await agents.locks.claim(agentId, presence.maxCalls, holder, claimMs))) {
      stopRinging();
      return { status: 'busy', reason: 'agent_busy' };
    }
    let held = false;
    call.showRinging(agentId, true);
    try {
      const leg = await this.#leg(call, {
        agentId,
        contact,
        callerId: options.callerId,
      });
      const wrapUp = this.#deps.wrapUpSeconds(queue ?? presence.queues[0]);
      const attempt = await ringLeg(call, leg, {
        timeoutSeconds: options.timeoutSeconds,
        signal: options.signal,
        answeredBy: agentId,
        earlyMedia: false,
        onBridged: (answered) => {
          stopRinging();
          held = true;
          agents.locks.hold(agentId, holder);
          answered.once('ended', () => agents.locks.release(agentId, holder));
          call.agentConnected(answered, agentId, wrapUp);
        },
      });
      if (attempt.status !== 'answered') call.showRinging(agentId, false);
      return attempt;
    } catch (error) {
      this.#deps.logger.warn({ err: error, agent: agentId }, 'agent leg could not be made');
      call.showRinging(agentId, false);
      return { status: 'failed', reason: 'agent_unreachable' };
    } finally {
      stopRinging();
      if (!held) agents.locks.release(agentId, holder);
    }
  }

  async #queue(
    call: Call,
    queue: string,
    options: DialOptions & { readonly callerId: string; readonly tier: string | undefined },
  ): Promise<DialAttempt> {
    const { now = Date.now } = this.#deps;
    const deadline = now() + options.timeoutSeconds * 1000;
    const tried = new Set<string>();
    let last: DialAttempt = { status: 'failed', reason: 'no_agent_available' };
    while (!options.signal.aborted && !call.ending) {
      const left = (deadline - now()) / 1000;
      if (left < 1) break;
      const next = this.#deps.queueCandidates(queue, options.tier).find((id) => !tried.has(id));
      if (next === undefined) break;
      tried.add(next);
      last = await this.#agent(call, next, { ...options, timeoutSeconds: Math.ceil(left) }, queue);
      if (last.status === 'answered' || last.status === 'canceled') return last;
    }
    return last.status === 'failed' && tried.size > 0 ? { ...last, status: 'no-answer' } : last;
  }

  async #sip(
    call: Call,
    uri: string,
    options: DialOptions & { readonly callerId: string },
  ): Promise<DialAttempt> {
    let leg: OutboundLeg;
    try {
      leg = await this.#leg(call, {
        agentId: uri,
        contact: { uri, expiresAt: Number.POSITIVE_INFINITY, flowId: undefined },
        callerId: options.callerId,
        to: uri,
        name: `sip:${uri}`,
      });
    } catch (error) {
      this.#deps.logger.warn({ err: error, uri }, 'SIP URI leg could not be made');
      return { status: 'failed', reason: 'unreachable' };
    }
    return ringLeg(call, leg, {
      timeoutSeconds: options.timeoutSeconds,
      signal: options.signal,
      answeredBy: uri,
      earlyMedia: true,
      onBridged: (answered) => call.targetAnswered(answered),
    });
  }

  async #leg(
    call: Call,
    request: {
      agentId: string;
      contact: AgentContact;
      callerId: string;
      to?: string;
      name?: string;
    },
  ): Promise<OutboundLeg> {
    const router = call.router;
    if (!router || router.closed) throw new ParleyError('internal', 'the call has no media router');
    const record = call.record;
    this.#attempts += 1;
    const phone = request.contact.phone;
    if (phone) {
      // An agent who is a telephone number: through the trunk (calls/trunk-agent-leg.ts).
      if (!this.#deps.trunks)
        throw new ParleyError('trunk_not_allowed', 'the gateway has no trunks');
      const leg = await trunkAgentLeg({
        trunks: this.#deps.trunks,
        stack: this.#deps.stack,
        router,
        logger: this.#deps.logger,
        agentId: request.agentId,
        phone,
        ...callerShaped(call.caller, call.gatewayCodec, this.#attempts),
        callerNumber: request.callerId,
        call: { id: call.id, tenant: record.tenant },
      });
      call.adoptLeg(leg);
      return leg;
    }
    const leg = await agentLeg({
      stack: this.#deps.stack,
      router,
      logger: this.#deps.logger,
      domain: this.#deps.domain,
      agentId: request.agentId,
      contact: request.contact,
      caller: call.caller,
      only: call.gatewayCodec,
      attempt: this.#attempts,
      identity: callerIdentity(
        request.callerId,
        call.callerView.privateClaims,
        this.#deps.tenantName(record.tenant),
      ),
      call: { id: call.id, sessionId: record.sessionId, tenant: record.tenant },
      to: request.to,
      name: request.name,
    });
    call.adoptLeg(leg);
    return leg;
  }
}
