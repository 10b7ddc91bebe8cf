/**
 * What the gateway's desk API sends and accepts (`gateway/src/desk/`): the
 * agent's presence, its SIP settings, a call's context, call records, and the
 * frames of the events WebSocket. The shapes mirror the gateway's JSON; frames
 * from the socket are checked by `parseDeskEvent` before anything uses them.
 */
import { parseMessage, type StoredMessage } from '@parley/shared/protocol';
import type { CallTokenPublicClaims, PrivateClaims } from '@parley/shared/tokens';

export const AGENT_STATES = ['offline', 'away', 'wrap-up', 'available', 'ringing', 'busy'] as const;
export type AgentState = (typeof AGENT_STATES)[number];
export type Availability = 'available' | 'away';

/** The agent as the desk sees it (`presenceView` in desk-hub.ts). */
export interface DeskAgent {
  readonly id: string;
  readonly displayName: string;
  readonly tier: string | null;
  readonly state: AgentState;
  readonly availability: Availability;
  /** A SIP phone (or this desk's softphone) is registered for the agent. */
  readonly registered: boolean;
  readonly activeCalls: number;
  /** End of the wrap-up period (ISO), while in wrap-up. */
  readonly wrapUpUntil: string | null;
  readonly queues: readonly string[];
}

/** Where the desk's softphone registers. */
export interface SipSettings {
  readonly wsUrl: string;
  readonly domain: string;
  readonly username: string;
}

/** `GET /desk/api/me`. */
export interface DeskProfile {
  readonly agent: DeskAgent;
  readonly sip: SipSettings;
}

/** One scoring provider's answer (the company's benefit or burden endpoint). */
export interface ProviderScore {
  readonly score: number;
  /** The provider failed and the configured default was used. */
  readonly fallback: boolean;
  readonly error?: string;
  readonly ms: number;
  readonly cached?: boolean;
}

/** Parley's own history of the customer. */
export interface CustomerHistory {
  readonly windowDays: number;
  readonly calls: number;
  readonly answeredCalls: number;
  readonly minutes: number;
  readonly repeatContacts: number;
}

export interface RoutingCandidate {
  readonly agentId: string;
  readonly agentTier?: string | null;
  readonly rank: number;
  readonly idleMs: number;
  readonly recentHandleSeconds?: number | null;
}

/** The routing decision: the customer's value and what made it. */
export interface RoutingDecision {
  readonly value: number;
  readonly tier: string;
  readonly terms: Readonly<Record<string, number>>;
  readonly algorithm: { readonly name: string; readonly version: string; readonly error?: string };
  readonly benefit: ProviderScore;
  readonly burden: ProviderScore;
  readonly history: CustomerHistory;
  readonly strategy: string;
  readonly candidates: readonly RoutingCandidate[];
  readonly decidedInMs: number;
}

export interface PreviousCall {
  readonly id: string;
  readonly createdAt: string;
  readonly outcome: string | null;
  readonly agentId: string | null;
  readonly talkSeconds: number;
}

/** Who is calling, from where, their value and their history (`call-context.ts`). */
export interface CallContext {
  readonly callId: string;
  readonly state: string;
  readonly queue: string | null;
  readonly sessionNumber: string;
  readonly sessionId: string;
  readonly origin: string;
  readonly createdAt: string;
  readonly publicClaims: Partial<CallTokenPublicClaims>;
  readonly privateClaims: PrivateClaims;
  readonly routing: RoutingDecision | null;
  readonly previousCalls: readonly PreviousCall[];
}

/** A call record as `GET /desk/api/calls` lists it (the fields the desk shows). */
export interface CallSummary {
  readonly id: string;
  readonly sessionNumber: string;
  readonly customerId: string | null;
  readonly queue: string | null;
  readonly origin: string;
  readonly agentId: string | null;
  readonly state: string;
  readonly outcome: string | null;
  readonly endedBy: string | null;
  readonly reason: string | null;
  readonly createdAt: string;
  readonly answeredAt: string | null;
  readonly endedAt: string | null;
}

/** `GET /desk/api/calls/:id`. */
export interface CallDetail extends CallSummary {
  readonly messages: readonly StoredMessage[];
  /** Set while the call is live. */
  readonly context: CallContext | null;
  readonly session: unknown;
}

/** A frame of the events socket, gateway → desk. */
export type DeskEvent =
  | { readonly type: 'presence'; readonly agent: DeskAgent }
  | { readonly type: 'ring'; readonly call: CallContext }
  | { readonly type: 'ring-stopped'; readonly callId: string }
  | { readonly type: 'answered'; readonly call: CallContext }
  | { readonly type: 'message'; readonly callId: string; readonly stored: StoredMessage }
  | {
      readonly type: 'ended';
      readonly callId: string;
      readonly reason: string | null;
      readonly outcome: string | null;
    }
  | { readonly type: 'notice'; readonly code: 'message_rejected'; readonly reason: string };

/** A frame of the events socket, desk → gateway. */
export type DeskCommand =
  | { readonly type: 'chat'; readonly callId: string; readonly text: string }
  | { readonly type: 'availability'; readonly value: Availability };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const stringOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** A presence view, or undefined when the shape is wrong. */
export function parseAgent(value: unknown): DeskAgent | undefined {
  if (!isObject(value) || !isString(value['id'])) return undefined;
  const state = value['state'];
  if (!AGENT_STATES.includes(state as AgentState)) return undefined;
  return {
    id: value['id'],
    displayName: isString(value['displayName']) ? value['displayName'] : value['id'],
    tier: stringOrNull(value['tier']),
    state: state as AgentState,
    availability: value['availability'] === 'away' ? 'away' : 'available',
    registered: value['registered'] === true,
    activeCalls: typeof value['activeCalls'] === 'number' ? value['activeCalls'] : 0,
    wrapUpUntil: stringOrNull(value['wrapUpUntil']),
    queues: Array.isArray(value['queues']) ? value['queues'].filter(isString) : [],
  };
}

/**
 * A call context with the fields the desk relies on filled (a gateway of
 * another version may leave some out), or undefined without a call id.
 */
export function parseCallContext(value: unknown): CallContext | undefined {
  if (!isObject(value) || !isString(value['callId'])) return undefined;
  return {
    callId: value['callId'],
    state: isString(value['state']) ? value['state'] : 'ringing',
    queue: stringOrNull(value['queue']),
    sessionNumber: isString(value['sessionNumber']) ? value['sessionNumber'] : '',
    sessionId: isString(value['sessionId']) ? value['sessionId'] : '',
    origin: isString(value['origin']) ? value['origin'] : '',
    createdAt: isString(value['createdAt']) ? value['createdAt'] : '',
    publicClaims: isObject(value['publicClaims']) ? value['publicClaims'] : {},
    privateClaims: isObject(value['privateClaims']) ? value['privateClaims'] : {},
    routing: isRouting(value['routing']) ? value['routing'] : null,
    previousCalls: Array.isArray(value['previousCalls'])
      ? (value['previousCalls'].filter(
          (c) => isObject(c) && isString(c['id']),
        ) as unknown as PreviousCall[])
      : [],
  };
}

function isRouting(value: unknown): value is RoutingDecision {
  if (!isObject(value)) return false;
  return (
    typeof value['value'] === 'number' &&
    isString(value['tier']) &&
    isObject(value['algorithm']) &&
    isObject(value['benefit']) &&
    isObject(value['burden']) &&
    isObject(value['history']) &&
    isObject(value['terms'])
  );
}

/** A stored data-channel message (its message checked against the shared schema). */
export function parseStoredMessage(value: unknown): StoredMessage | undefined {
  if (!isObject(value) || typeof value['seq'] !== 'number') return undefined;
  const from = value['from'];
  if (from !== 'visitor' && from !== 'agent') return undefined;
  const check = parseMessage(JSON.stringify(value['message'] ?? null));
  if (!check.ok) return undefined;
  return {
    seq: value['seq'],
    from,
    receivedAt: isString(value['receivedAt']) ? value['receivedAt'] : '',
    message: check.message,
  };
}

/**
 * One frame of the events socket, or undefined for anything else (not JSON,
 * an unknown type, a wrong shape, the message hub's own `call_ended` notice):
 * the desk ignores what it does not understand.
 */
export function parseDeskEvent(frame: unknown): DeskEvent | undefined {
  if (!isString(frame)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  switch (value['type']) {
    case 'presence': {
      const agent = parseAgent(value['agent']);
      return agent && { type: 'presence', agent };
    }
    case 'ring':
    case 'answered': {
      const call = parseCallContext(value['call']);
      return call && { type: value['type'], call };
    }
    case 'ring-stopped':
      return isString(value['callId'])
        ? { type: 'ring-stopped', callId: value['callId'] }
        : undefined;
    case 'message': {
      const stored = parseStoredMessage(value['stored']);
      return stored && isString(value['callId'])
        ? { type: 'message', callId: value['callId'], stored }
        : undefined;
    }
    case 'ended':
      return isString(value['callId'])
        ? {
            type: 'ended',
            callId: value['callId'],
            reason: stringOrNull(value['reason']),
            outcome: stringOrNull(value['outcome']),
          }
        : undefined;
    case 'notice':
      return value['code'] === 'message_rejected'
        ? {
            type: 'notice',
            code: 'message_rejected',
            reason: isString(value['reason']) ? value['reason'] : 'rejected',
          }
        : undefined;
    default:
      return undefined;
  }
}
