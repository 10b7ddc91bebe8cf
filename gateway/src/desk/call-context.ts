import type { CallContext, FlowEvent } from '@parley/shared/protocol';
import type { Call } from '../calls/index.js';
import type { CallStore } from '../storage/index.js';

/**
 * The stored flow events of a call (`Telephony.flowEventsOf`: none read for a
 * call no flow ran on, so a plain visitor call costs no query per frame).
 */
export type FlowEventsOf = (call: Call) => Promise<readonly FlowEvent[]>;

/** What the desk shows about a flow: what happened, not the verbs' starts. */
const SHOWN: ReadonlySet<FlowEvent['type']> = new Set([
  'verb.result',
  'verb.error',
  'source.error',
  'transcript.final',
  'transcript.error',
]);

type PreviousCalls = CallContext['previousCalls'];

/**
 * The session's earlier calls, read once per call: the ring frame to each
 * agent rung and the answer frame all show the same history (one store read
 * per call instead of one per frame; on PostgreSQL that was 2+ per call).
 */
const previousByCall = new WeakMap<Call, Promise<PreviousCalls>>();

function previousCalls(call: Call, store: CallStore): Promise<PreviousCalls> {
  let previous = previousByCall.get(call);
  if (!previous) {
    previous = readPrevious(call, store);
    previousByCall.set(call, previous);
    // A failed read is tried again by the next frame.
    previous.catch(() => previousByCall.delete(call));
  }
  return previous;
}

/**
 * What the desk shows about a call: who is calling, from where, their value,
 * their history, and what the call's flow did before it reached the agent.
 */
export async function callContext(
  call: Call,
  store: CallStore,
  flowEvents?: FlowEventsOf,
): Promise<CallContext> {
  const record = call.record;
  const [previous, flow] = await Promise.all([
    previousCalls(call, store),
    flowOf(call, flowEvents),
  ]);
  return {
    callId: record.id,
    state: record.state,
    queue: record.queue,
    sessionNumber: record.sessionNumber,
    sessionId: record.sessionId,
    origin: record.origin,
    createdAt: new Date(record.createdAt).toISOString(),
    publicClaims: call.token?.claims ?? {},
    privateClaims: call.token?.privateClaims ?? {},
    routing: call.decision ?? null,
    previousCalls: previous,
    channel: record.channel,
    callerNumber: record.callerNumber,
    called: record.called,
    ...flow,
  };
}

async function readPrevious(call: Call, store: CallStore): Promise<PreviousCalls> {
  const record = call.record;
  return (await store.listBySession(record.tenant, record.sessionId, 20))
    .filter((c) => c.id !== record.id)
    .map((c) => ({
      id: c.id,
      createdAt: new Date(c.createdAt).toISOString(),
      outcome: c.outcome,
      agentId: c.agentId,
      talkSeconds:
        c.answeredAt !== null && c.endedAt !== null
          ? Math.round((c.endedAt - c.answeredAt) / 1000)
          : 0,
    }));
}

async function flowOf(
  call: Call,
  flowEvents: FlowEventsOf | undefined,
): Promise<{ flow?: FlowEvent[] }> {
  // The desk frame goes out without them rather than not at all (a store that cannot be read).
  const stored = await Promise.resolve(flowEvents?.(call)).catch(() => undefined);
  const events = (stored ?? []).filter((e) => SHOWN.has(e.type));
  return events.length > 0 ? { flow: events } : {};
}
