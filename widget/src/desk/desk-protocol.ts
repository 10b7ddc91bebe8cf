/**
 * What the gateway's desk API sends and accepts (`gateway/src/desk/`): the
 * agent's presence, its SIP settings, a call's context, call records, and the
 * frames of the events WebSocket. The shapes mirror the gateway's JSON; frames
 * from the socket are checked by `parseDeskEvent` before anything uses them.
 */
import {
  AGENT_STATES,
  CALLBACK_PHASES,
  type CallbackPhase,
  type DeskCallbackView,
  parseMessage,
  type AgentState,
  type CallContext,
  type DeskAgent,
  type FlowEvent,
  type PreviousCall,
  type RoutingDecision,
  type StoredMessage,
  type DeskEvent,
  type WaitingCallerView,
} from '@parley/shared/protocol';

export * from '@parley/shared/protocol/desk';

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
    ...(Array.isArray(value['flow'])
      ? {
          flow: value['flow'].filter(
            (e) => isObject(e) && isString(e['type']),
          ) as unknown as FlowEvent[],
        }
      : {}),
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
    case 'flow': {
      const event = value['event'];
      return isObject(event) &&
        isString(event['type']) &&
        isString(event['callId']) &&
        isString(event['flow']) &&
        typeof event['seq'] === 'number'
        ? { type: 'flow', event: event as unknown as FlowEvent }
        : undefined;
    }
    case 'queue': {
      const queue = value['queue'];
      return isObject(queue) &&
        isString(queue['queue']) &&
        typeof queue['waiting'] === 'number' &&
        Array.isArray(queue['callers'])
        ? {
            type: 'queue',
            queue: {
              queue: queue['queue'],
              waiting: queue['waiting'],
              offered: typeof queue['offered'] === 'number' ? queue['offered'] : 0,
              longestWaitSeconds:
                typeof queue['longestWaitSeconds'] === 'number' ? queue['longestWaitSeconds'] : 0,
              callers: queue['callers'].filter(
                (c) => isObject(c) && isString(c['callId']),
              ) as unknown as WaitingCallerView[],
            },
          }
        : undefined;
    }
    case 'callback': {
      const view = value['callback'];
      return isObject(view) &&
        isString(view['id']) &&
        CALLBACK_PHASES.includes(view['phase'] as CallbackPhase) &&
        isString(view['at'])
        ? { type: 'callback', callback: parseCallbackView(view) }
        : undefined;
    }
    default:
      return undefined;
  }
}

/** A `callback` frame's view with its optional fields filled (another gateway version). */
function parseCallbackView(v: Json): DeskCallbackView {
  return {
    id: v['id'] as string,
    phase: v['phase'] as CallbackPhase,
    attempt: typeof v['attempt'] === 'number' ? v['attempt'] : 0,
    outcome: stringOrNull(v['outcome']),
    code: stringOrNull(v['code']),
    destination: isString(v['destination']) ? v['destination'] : '',
    listingId: stringOrNull(v['listingId']),
    advertiserName: isString(v['advertiserName']) ? v['advertiserName'] : '',
    page: stringOrNull(v['page']),
    phone: isString(v['phone']) ? v['phone'] : '',
    key: stringOrNull(v['key']),
    keyAt: stringOrNull(v['keyAt']),
    agentId: stringOrNull(v['agentId']),
    privateClaims: isObject(v['privateClaims']) ? v['privateClaims'] : {},
    at: v['at'] as string,
  };
}
