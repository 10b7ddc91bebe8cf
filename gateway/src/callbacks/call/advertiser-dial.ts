/**
 * Ringing the advertiser after the customer pressed 1: a queue's agents (the
 * ring strategy of calls, value routing included), one agent, or a phone
 * number through a trunk. Resolves with the answered leg (its answer taken,
 * codec the customer's) or why no one answered; every leg is written to the
 * attempt's log.
 */
import type { ErrorCode } from '@parley/shared/errors';
import type { PrivateClaims } from '@parley/shared/tokens';
import { reachableContact, type AgentDirectory } from '../../agents/index.js';
import {
  RingStrategy,
  evaluateValue,
  type ChosenCodec,
  type OutboundLeg,
} from '../../calls/index.js';
import type { MediaRouter } from '../../media/index.js';
import type { Logger } from '../../observability/index.js';
import type { QueueSettings, ValueService } from '../../routing/index.js';
import type { SipStack } from '../../sip/index.js';
import type { OutboundTrunkCall, Trunks } from '../../trunks/index.js';
import type { AttemptLog } from '../attempt-log.js';
import type { AdvertiserTarget } from '../model.js';
import { callbackAgentLeg } from './agent-leg.js';
import { dialThroughTrunk } from './trunk-dial.js';

export interface AdvertiserDialDeps {
  readonly stack: SipStack;
  readonly trunks: Trunks;
  readonly agents: AgentDirectory;
  readonly logger: Logger;
  readonly domain: string;
  readonly queue: (name: string) => QueueSettings;
  readonly value?: ValueService | undefined;
  readonly now: () => number;
}

export interface AdvertiserDialRequest {
  readonly tenant: string;
  readonly target: AdvertiserTarget;
  readonly router: MediaRouter;
  readonly codec: ChosenCodec;
  /** The customer as the advertiser sees them. */
  readonly customer: { readonly number: string; readonly displayName: string };
  readonly callback: { readonly id: string; readonly tenant: string; readonly sessionId: string };
  readonly privateClaims: PrivateClaims;
  readonly ringTimeoutMs: number;
  readonly log: AttemptLog;
  readonly signal: AbortSignal;
  /** An agent's phone (or desk) rings, or stopped ringing without taking the call. */
  readonly onAgent: (agentId: string, ringing: boolean) => void;
  /** An agent's leg was made (before its INVITE leaves): the caller keeps its INVITE while it rings. */
  readonly onLeg?: ((leg: OutboundLeg) => void) | undefined;
  /** A phone number's trunk call was made: the caller keeps its INVITE while it rings. */
  readonly onTrunkDial?: ((call: OutboundTrunkCall) => void) | undefined;
  /** An advertiser leg rings (each leg's first provisional response). */
  readonly onRinging: () => void;
}

export type AdvertiserDialResult =
  | {
      readonly kind: 'answered';
      readonly leg: OutboundLeg;
      readonly party: string;
      readonly agentId: string | undefined;
      /** An agent's busy state ends with this (wrap-up seconds). */
      readonly endCall: ((wrapUpSeconds?: number) => void) | undefined;
      readonly wrapUpSeconds: number;
    }
  | { readonly kind: 'failed'; readonly code: ErrorCode; readonly detail: string };

export async function dialAdvertiser(
  deps: AdvertiserDialDeps,
  request: AdvertiserDialRequest,
): Promise<AdvertiserDialResult> {
  const target = request.target;
  switch (target.kind) {
    case 'number':
      return dialNumber(deps, request, target.number, target.trunk);
    case 'agent':
      return dialAgent(deps, request, target.agent);
    case 'queue':
      return dialQueue(deps, request, target.queue);
  }
}

async function dialNumber(
  deps: AdvertiserDialDeps,
  request: AdvertiserDialRequest,
  number: string,
  trunk: string | undefined,
): Promise<AdvertiserDialResult> {
  const leg = request.log.advertiserLeg(number, null);
  let rang = false;
  const result = await dialThroughTrunk(deps, request.router, {
    tenant: request.tenant,
    trunk,
    to: number,
    callerNumber: request.customer.number,
    callerName: request.customer.displayName,
    codecs: [
      request.codec.codec,
      ...(request.codec.telephoneEvent ? [request.codec.telephoneEvent] : []),
    ],
    ringTimeoutMs: request.ringTimeoutMs,
    name: 'advertiser',
    headers: [['X-Parley-Callback', request.callback.id]],
    signal: request.signal,
    onDial: request.onTrunkDial,
    onRinging: () => {
      leg.ringingAt = deps.now();
      if (!rang) request.onRinging();
      rang = true;
    },
  });
  leg.callId = result.callId;
  if (result.kind === 'failed') {
    leg.endedAt = deps.now();
    leg.status = result.failure.status ?? null;
    leg.result = result.failure.reason;
    return {
      kind: 'failed',
      code: result.failure.code ?? 'callback_cancelled',
      detail: result.failure.detail,
    };
  }
  leg.answeredAt = deps.now();
  leg.result = 'answered';
  result.leg.once('ended', () => (leg.endedAt = deps.now()));
  return {
    kind: 'answered',
    leg: result.leg,
    party: number,
    agentId: undefined,
    endCall: undefined,
    wrapUpSeconds: 0,
  };
}

/** The customer's codec, kept by the agent's answer: what the relay can join as it is. */
async function takeAnswer(
  leg: OutboundLeg,
  request: AdvertiserDialRequest,
): Promise<{ ok: true } | { ok: false; code: ErrorCode; detail: string }> {
  try {
    const codec = await leg.acceptAnswer();
    const fits =
      codec !== undefined &&
      codec.codec.name.toLowerCase() === request.codec.codec.name.toLowerCase();
    if (fits) return { ok: true };
    leg.close('offer_required');
    return { ok: false, code: 'offer_required', detail: 'the agent answered another codec' };
  } catch {
    leg.close('offer_required');
    return { ok: false, code: 'agent_unreachable', detail: "the agent's answer is not usable" };
  }
}

/** One agent: its leg, rung until it answers, fails or times out. */
async function dialAgent(
  deps: AdvertiserDialDeps,
  request: AdvertiserDialRequest,
  agentId: string,
): Promise<AdvertiserDialResult> {
  const log = deps.logger.child({ callback: request.callback.id, agent: agentId });
  const agent = deps.agents.get(agentId);
  const contact = agent ? reachableContact(agent.contacts, deps.now()) : undefined;
  if (!agent || !contact || agent.availability === 'away' || agent.state !== 'available')
    return { kind: 'failed', code: 'no_agent_available', detail: `agent ${agentId} is not free` };
  let leg: OutboundLeg;
  try {
    leg = await callbackAgentLeg({
      stack: deps.stack,
      router: request.router,
      logger: log,
      domain: deps.domain,
      agentId,
      contact,
      codec: request.codec,
      caller: request.customer,
      callback: request.callback,
      trunks: deps.trunks,
    });
  } catch (error) {
    log.warn({ err: error }, 'agent leg could not be made');
    return { kind: 'failed', code: 'agent_unreachable', detail: 'no media or no route' };
  }
  request.onLeg?.(leg);
  const record = request.log.attemptStarted(agentId, leg.callId);
  const entry = request.log.agentLeg(agentId);
  const stopRinging = deps.agents.ringStarted(agentId);
  request.onAgent(agentId, true);
  return new Promise<AdvertiserDialResult>((resolve) => {
    let settled = false;
    const finish = (result: AdvertiserDialResult, status?: number, reason?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onAbort);
      stopRinging();
      if (result.kind === 'failed') {
        request.log.attemptEnded(record, status, reason ?? result.code);
        request.onAgent(agentId, false);
        leg.close(result.code);
      }
      resolve(result);
    };
    const onAbort = () =>
      finish({ kind: 'failed', code: 'callback_cancelled', detail: 'the callback ended' }, 487);
    const timer = setTimeout(
      () => finish({ kind: 'failed', code: 'agent_no_answer', detail: 'ring timeout' }, 408),
      request.ringTimeoutMs,
    );
    request.signal.addEventListener('abort', onAbort, { once: true });
    leg.on('progress', () => {
      if (entry && entry.ringingAt === null) {
        entry.ringingAt = deps.now();
        request.onRinging();
      }
    });
    leg.on('failed', (failure) =>
      finish(
        {
          kind: 'failed',
          code:
            failure.cause === 'busy'
              ? 'agent_busy'
              : failure.cause === 'no_answer'
                ? 'agent_no_answer'
                : 'agent_unreachable',
          detail: `status ${failure.status}`,
        },
        failure.status,
      ),
    );
    leg.on('answered', () => {
      request.log.answeredBy(record);
      void takeAnswer(leg, request).then((taken) => {
        if (!taken.ok) {
          finish({ kind: 'failed', code: taken.code, detail: taken.detail }, 488);
          return;
        }
        if (settled || request.signal.aborted) {
          leg.close('cancelled');
          return;
        }
        leg.once('ended', () => request.log.attemptEnded(record));
        finish({
          kind: 'answered',
          leg,
          party: `agent:${agentId}`,
          agentId,
          endCall: deps.agents.callStarted(agentId),
          wrapUpSeconds: 0,
        });
      });
    });
    leg.start();
  });
}

/** A queue's agents, by the calls' ring strategy (value band, longest idle, sequential or simultaneous). */
async function dialQueue(
  deps: AdvertiserDialDeps,
  request: AdvertiserDialRequest,
  queueName: string,
): Promise<AdvertiserDialResult> {
  const log = deps.logger.child({ callback: request.callback.id, queue: queueName });
  const settings = deps.queue(queueName);
  const value = await evaluateValue(deps.value, request.tenant, request.privateClaims, log);
  if (request.signal.aborted)
    return { kind: 'failed', code: 'callback_cancelled', detail: 'ended' };
  return new Promise<AdvertiserDialResult>((resolve) => {
    let settled = false;
    const strategy: RingStrategy = new RingStrategy({
      agents: deps.agents,
      queue: settings,
      queueName,
      tenant: request.tenant,
      record: request.log,
      log,
      now: deps.now,
      dial: async (agent, contact) => {
        const leg = await callbackAgentLeg({
          stack: deps.stack,
          router: request.router,
          logger: log,
          domain: deps.domain,
          agentId: agent.id,
          contact,
          codec: request.codec,
          caller: request.customer,
          callback: request.callback,
          trunks: deps.trunks,
        });
        request.onLeg?.(leg);
        return leg;
      },
      wanted: () => !settled && !request.signal.aborted,
    });
    const finish = (result: AdvertiserDialResult) => {
      if (settled) return;
      settled = true;
      request.signal.removeEventListener('abort', onAbort);
      if (result.kind === 'failed') strategy.close(result.code);
      resolve(result);
    };
    const onAbort = () => {
      finish({ kind: 'failed', code: 'callback_cancelled', detail: 'the callback ended' });
    };
    request.signal.addEventListener('abort', onAbort, { once: true });
    strategy.on('ringing', (id) => request.onAgent(id, true));
    strategy.on('stopped', (id) => request.onAgent(id, false));
    strategy.on('progress', (leg) => {
      const entry = request.log.agentLeg(leg.name.replace(/^agent:/, ''));
      if (entry && entry.ringingAt === null) {
        entry.ringingAt = deps.now();
        request.onRinging();
      }
    });
    strategy.on('exhausted', (code) =>
      finish({ kind: 'failed', code, detail: 'no agent took the callback' }),
    );
    strategy.on('answered', (leg, agent) => {
      void takeAnswer(leg, request).then((taken) => {
        if (!taken.ok) {
          finish({ kind: 'failed', code: taken.code, detail: taken.detail });
          return;
        }
        if (settled) {
          leg.close('cancelled');
          return;
        }
        finish({
          kind: 'answered',
          leg,
          party: `agent:${agent.id}`,
          agentId: agent.id,
          endCall: deps.agents.callStarted(agent.id),
          wrapUpSeconds: settings.wrapUpSeconds,
        });
      });
    });
    void strategy.start(value);
  });
}
