import type { CallContext } from '@parley/shared/protocol';
import type { Call } from '../calls/index.js';
import type { CallStore } from '../storage/index.js';

/** What the desk shows about a call: who is calling, from where, their value, and their history. */
export async function callContext(call: Call, store: CallStore): Promise<CallContext> {
  const record = call.record;
  const previous = (await store.listBySession(record.tenant, record.sessionId, 20))
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
  };
}
