/**
 * The enqueue verb with the real queue service (agents and the call are
 * fakes): the wait the caller hears and sees, the agent who takes the call,
 * leaving by hanging up, and what runs after a wait without an agent.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../observability/index.js';
import { QueueService, DEFAULT_WAITING, type QueueDefinition } from '../../queues/queue-service.js';
import { MemoryQueueState } from '../../queues/queue-state.js';
import { FakeAgents } from '../../queues/testing/fake-agents.js';
import type { DialAttempt } from '../ports.js';
import type { FakeSpeech } from '../testing/fake-call.js';
import { FakeCall, fakeBridge } from '../testing/fake-call.js';
import { harness } from '../testing/harness.js';
import { announcement } from './enqueue.js';

function setup(queue: Partial<QueueDefinition> = {}, flows: Record<string, unknown[]> = {}) {
  const agents = new FakeAgents();
  agents.add('alice', ['sales']);
  const queues = new QueueService({
    queues: {
      sales: {
        tenant: 'acme',
        ringTimeoutSeconds: 15,
        waiting: { ...DEFAULT_WAITING, announceEverySeconds: 0 },
        ...queue,
      },
    },
    state: new MemoryQueueState(),
    agents,
    logger: createLogger('silent'),
  });
  const h = harness({
    queues,
    flows: {
      main: [
        { verb: 'enqueue', queue: 'sales' },
        { verb: 'say', text: 'Goodbye.' },
      ],
      ...flows,
    },
  });
  return { h, agents, queues };
}

/** A call whose dials to agents are answered (the agent becomes busy) and bridged until `end()`. */
function answeringCall(agents: FakeAgents, speech: FakeSpeech) {
  const bridge = fakeBridge('alice');
  const call = new FakeCall({
    visitor: true,
    // Speech ends by itself; the music plays until it is stopped.
    playMode: (audio) => (speech.textOf(audio) === undefined ? 'hold' : 'instant'),
    context: { channel: 'browser', value: { value: 120, tier: 'high' } },
    dial: (target) => {
      if (target.type !== 'agent') return Promise.resolve<DialAttempt>({ status: 'failed' });
      agents.set(target.agent, 'busy');
      return Promise.resolve({ status: 'answered', bridge });
    },
  });
  return { call, bridge };
}

describe('enqueue', () => {
  it('plays music and tells the caller its place until a free agent takes the call; then the flow goes on', async () => {
    const { h, agents, queues } = setup();
    const { call, bridge } = answeringCall(agents, h.speech);
    const done = h.runner.run(call, 'main');
    const status = await once(call, 'visitor');
    expect(status[0]).toMatchObject({
      type: 'queue',
      state: 'waiting',
      queue: 'sales',
      position: 1,
      estimatedWaitSeconds: 120,
    });
    // The announcement, then the music (the built-in tone).
    const music = await new Promise<unknown>((resolve) =>
      call.on('play', (p) => h.speech.textOf(p.audio) === undefined && resolve(p.audio)),
    );
    expect(music).toMatchObject({ kind: 'pcm', sampleRate: 8000 });
    expect(h.speech.spoken).toEqual([
      'You are number 1 in the queue. The wait is about 2 minutes.',
    ]);
    expect(await queues.size('sales')).toBe(1);

    const connected = new Promise<void>((resolve) =>
      call.on('visitor', (s) => s.state === 'left' && resolve()),
    );
    agents.set('alice', 'available');
    await connected;
    expect(call.dials).toEqual([{ type: 'agent', agent: 'alice' }]);
    expect(call.plays.every((p) => p.signal.aborted)).toBe(true); // the music stopped when the agent answered
    expect(call.visitorStatuses.map((s) => s.state)).toEqual(['waiting', 'connecting', 'left']);
    expect(call.visitorStatuses.at(-1)).toMatchObject({ reason: 'answered' });
    bridge.end('target');
    await done;
    expect(h.log.of('verb.result')[0]?.result).toMatchObject({
      status: 'bridged',
      queue: 'sales',
      agentId: 'alice',
      joinedAt: 1,
    });
    expect(h.log.of('queue.offered')[0]).toMatchObject({ queue: 'sales', agentId: 'alice' });
    expect(h.log.summary()).toEqual(['enqueue:bridged', 'say:completed']);
    expect(await queues.size('sales')).toBe(0);
  });

  it('says the place again at the interval, and sends it to the widget each time', async () => {
    const { h, agents } = setup({ waiting: { ...DEFAULT_WAITING, announceEverySeconds: 1 } });
    const { call } = answeringCall(agents, h.speech);
    const done = h.runner.run(call, 'main');
    await new Promise<void>((resolve) =>
      call.on('visitor', () => call.visitorStatuses.length === 2 && resolve()),
    );
    expect(h.speech.spoken).toHaveLength(2);
    expect(call.visitorStatuses.map((s) => [s.state, s.position])).toEqual([
      ['waiting', 1],
      ['waiting', 1],
    ]);
    call.callerHangsUp();
    await done;
  });

  it('a caller who hangs up while waiting leaves the queue at once', async () => {
    const { h, agents, queues } = setup();
    const { call } = answeringCall(agents, h.speech);
    const done = h.runner.run(call, 'main');
    await once(call, 'visitor');
    expect(await queues.size('sales')).toBe(1);
    call.callerHangsUp();
    const outcome = await done;
    expect(outcome.reason).toBe('caller_hangup');
    expect(await queues.size('sales')).toBe(0);
    expect(h.log.of('verb.result')[0]?.result).toMatchObject({ status: 'hangup', queue: 'sales' });
    // Nobody is offered a caller who left.
    agents.set('alice', 'available');
    expect(call.dials).toEqual([]);
  });

  it('after the longest wait without an agent, the built-in apology and a hang-up with queue_timeout', async () => {
    const { h, agents } = setup(
      {},
      { main: [{ verb: 'enqueue', queue: 'sales', maxWaitSeconds: 1 }] },
    );
    const { call } = answeringCall(agents, h.speech);
    await h.runner.run(call, 'main');
    expect(h.log.summary()).toEqual(['enqueue:timeout', 'say:completed', 'hangup:completed']);
    expect(h.speech.spoken.at(-1)).toBe(DEFAULT_WAITING.unavailableText);
    expect(call.hangups).toEqual(['queue_timeout']);
    expect(call.visitorStatuses.at(-1)).toMatchObject({ state: 'left', reason: 'timeout' });
  });

  it("runs the queue's own flow for a closed queue, and the next verbs when the queue names none", async () => {
    const closedFlow = setup(
      {
        flows: { closed: 'after-hours' },
        businessHours: { timeZone: 'UTC', isOpen: () => false, describe: () => '' },
      },
      { 'after-hours': [{ verb: 'say', text: 'We are closed.' }] },
    );
    await closedFlow.h.runner.run(new FakeCall(), 'main');
    expect(closedFlow.h.log.summary()).toEqual(['enqueue:closed', 'say:completed']);
    expect(closedFlow.h.speech.spoken).toEqual(['We are closed.']);

    const next = setup({
      businessHours: { timeZone: 'UTC', isOpen: () => false, describe: () => '' },
    });
    await next.h.runner.run(new FakeCall(), 'main');
    expect(next.h.log.summary()).toEqual(['enqueue:closed', 'say:completed']);
    expect(next.h.speech.spoken).toEqual(['Goodbye.']);
  });

  it('refuses a queue of another tenant, or none, as a verb error', async () => {
    const { h } = setup(
      { tenant: 'globex' },
      {
        main: [
          { verb: 'enqueue', queue: 'sales' },
          { verb: 'enqueue', queue: 'nope' },
        ],
      },
    );
    await h.runner.run(new FakeCall(), 'main');
    expect(h.log.summary()).toEqual(['enqueue:error:unknown_queue', 'enqueue:error:unknown_queue']);
  });
});

describe('announcement', () => {
  it('fills in the place and the minutes, and leaves the minutes out without an estimate', () => {
    const t = DEFAULT_WAITING.announcement;
    expect(announcement(t, 3, 150)).toBe(
      'You are number 3 in the queue. The wait is about 3 minutes.',
    );
    expect(announcement(t, 1, 20)).toBe(
      'You are number 1 in the queue. The wait is about 1 minute.',
    );
    expect(announcement(t, 4, null)).toBe('You are number 4 in the queue.');
  });
});
