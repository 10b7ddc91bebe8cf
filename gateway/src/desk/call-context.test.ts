import { describe, expect, it } from 'vitest';
import type { Call } from '../calls/index.js';
import type { CallRecord, CallStore } from '../storage/index.js';
import { callContext } from './call-context.js';

const earlier = {
  id: 'c0',
  createdAt: Date.parse('2026-12-01T10:00:00Z'),
  outcome: 'completed',
  agentId: 'agent1',
  answeredAt: Date.parse('2026-12-01T10:00:05Z'),
  endedAt: Date.parse('2026-12-01T10:01:05Z'),
} as unknown as CallRecord;

function fakes() {
  let reads = 0;
  const store = {
    listBySession: async () => {
      reads += 1;
      return [earlier, { ...earlier, id: 'c1' }];
    },
  } as unknown as CallStore;
  const call = {
    id: 'c1',
    record: {
      id: 'c1',
      tenant: 't',
      sessionId: 's',
      state: 'ringing',
      createdAt: Date.now(),
    },
  } as unknown as Call;
  return { store, call, reads: () => reads };
}

describe('callContext', () => {
  it("reads the session's earlier calls once per call, whatever the frames", async () => {
    const { store, call, reads } = fakes();
    const ring1 = await callContext(call, store);
    const ring2 = await callContext(call, store);
    const answered = await callContext(call, store);
    expect(reads()).toBe(1);
    for (const context of [ring1, ring2, answered])
      expect(context.previousCalls).toEqual([
        {
          id: 'c0',
          createdAt: '2026-12-01T10:00:00.000Z',
          outcome: 'completed',
          agentId: 'agent1',
          talkSeconds: 60,
        },
      ]);
    // Another call reads its own.
    await callContext(fakes().call, store);
    expect(reads()).toBe(2);
  });
});
