import type { DeskEvent, FlowEvent } from '@parley/shared/protocol';
import { describe, expect, it } from 'vitest';
import type { AgentDirectory } from '../agents/index.js';
import type { CallManager } from '../calls/index.js';
import { DeskFlowFeed } from './flow-feed.js';

const agents = [
  { id: 'ann', tenant: 'acme', queues: ['sales'] },
  { id: 'bob', tenant: 'acme', queues: ['support'] },
  { id: 'cy', tenant: 'other', queues: ['sales'] },
];

function feed(call?: { ringingAgents: string[]; agentId?: string; queue?: string | null }) {
  const sent: { agentId: string; event: DeskEvent }[] = [];
  const calls = {
    get: (id: string) =>
      call && id === 'c1'
        ? {
            ringingAgents: call.ringingAgents,
            agentId: call.agentId,
            record: { queue: call.queue ?? null },
          }
        : undefined,
  } as unknown as CallManager;
  const directory = { list: () => agents } as unknown as AgentDirectory;
  const f = new DeskFlowFeed({
    desk: { notify: (agentId, event) => sent.push({ agentId, event }) },
    calls,
    agents: directory,
  });
  return { f, sent };
}

let seq = 0;
const ev = (e: Record<string, unknown>): FlowEvent =>
  ({
    callId: 'c1',
    tenant: 'acme',
    seq: ++seq,
    at: 'x',
    flow: 'menu',
    ...e,
  }) as unknown as FlowEvent;

describe('DeskFlowFeed', () => {
  it('a phone menu in no queue yet goes to every desk of its tenant', () => {
    const { f, sent } = feed({ ringingAgents: [] });
    const gather = ev({ type: 'verb.start', index: 0, verb: 'gather', options: {} });
    f.event(gather);
    expect(sent).toEqual([
      { agentId: 'ann', event: { type: 'flow', event: gather } },
      { agentId: 'bob', event: { type: 'flow', event: gather } },
    ]);
  });

  it('once the call waits in a queue, to that queue’s agents and whoever it rings', () => {
    const { f, sent } = feed({ ringingAgents: [] });
    f.event(
      ev({ type: 'queue.position', queue: 'support', position: 1, estimatedWaitSeconds: null }),
    );
    expect(sent.map((s) => s.agentId)).toEqual(['bob']);
    const { f: f2, sent: sent2 } = feed({ ringingAgents: ['ann'], queue: 'support' });
    f2.event(ev({ type: 'verb.start', index: 1, verb: 'say', options: {} }));
    expect(sent2.map((s) => s.agentId).sort()).toEqual(['ann', 'bob']);
  });

  it('partial transcripts go only to the agents ringing or talking; flow.end forgets the queue', () => {
    const { f, sent } = feed({ ringingAgents: ['ann'], agentId: 'bob' });
    f.event(ev({ type: 'transcript.partial', utterance: 0, text: 'hel' }));
    expect(sent.map((s) => s.agentId).sort()).toEqual(['ann', 'bob']);
    f.event(ev({ type: 'queue.offered', queue: 'sales', agentId: 'ann' }));
    expect(f.size).toBe(1);
    f.event(ev({ type: 'flow.end', reason: 'completed' }));
    expect(f.size).toBe(0);
  });
});

describe('DeskFlowFeed replay', () => {
  it('gives a desk that connects the flows in progress it watches, until they end', () => {
    const { f } = feed({ ringingAgents: [] });
    const start = ev({ type: 'flow.start', source: 'config' });
    const gather = ev({ type: 'verb.start', index: 0, verb: 'gather', options: {} });
    const partial = ev({ type: 'transcript.partial', utterance: 0, text: 'he' });
    f.event(start);
    f.event(gather);
    f.event(partial);
    expect(f.replay('ann')).toEqual([
      { type: 'flow', event: start },
      { type: 'flow', event: gather },
    ]);
    expect(f.replay('cy')).toEqual([]); // another tenant
    f.event(ev({ type: 'flow.end', reason: 'completed' }));
    expect(f.replay('ann')).toEqual([]);
    expect(f.size).toBe(0);
  });
});
