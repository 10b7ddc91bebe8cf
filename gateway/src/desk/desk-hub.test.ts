import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AgentDirectory } from '../agents/index.js';
import type { Call, CallManager, MessageHub } from '../calls/index.js';
import type { CallStore } from '../storage/index.js';
import { DeskHub } from './desk-hub.js';

const logger = pino({ level: process.env['PARLEY_TEST_LOG'] ?? 'silent' });

/** A hub over fakes: calls whose events the test raises, a store that counts its reads. */
function hub() {
  let reads = 0;
  const store = {
    listBySession: () => {
      reads += 1;
      return Promise.resolve([]);
    },
  } as unknown as CallStore;
  let watch: ((c: Call) => void) | undefined;
  const calls = {
    onCall: (listener: (c: Call) => void) => (watch = listener),
    list: () => [],
  } as unknown as CallManager;
  const agents = Object.assign(new EventEmitter(), { get: () => undefined });
  const desks = new DeskHub({
    calls,
    store,
    messages: { subscribe: () => () => undefined } as unknown as MessageHub,
    agents: agents as unknown as AgentDirectory,
    logger,
  });
  const newCall = (id: string) => {
    const call = Object.assign(new EventEmitter(), {
      id,
      agentId: undefined,
      ringingAgents: [] as string[],
      record: { id, tenant: 't', sessionId: 's', state: 'ringing', createdAt: Date.now() },
    });
    watch?.(call as unknown as Call);
    return call;
  };
  return { desks, newCall, reads: () => reads };
}

describe('DeskHub', () => {
  it("makes a ring frame (the call's context, a store read) only for an agent with a desk here", async () => {
    const { desks, newCall, reads } = hub();
    newCall('c0').emit('agentRinging', 'nobody-here');
    const frames: string[] = [];
    desks.connect('agent1', { send: (frame) => frames.push(frame) });
    const rung = new Promise<void>((resolve) => {
      desks.connect('agent1', {
        send: (frame) => {
          if (frame.includes('"ring"')) resolve();
        },
      });
    });
    newCall('c1').emit('agentRinging', 'agent1');
    await rung;
    expect(reads()).toBe(1);
    expect(frames.map((f) => (JSON.parse(f) as { type: string }).type)).toEqual(['ring']);
  });
});
