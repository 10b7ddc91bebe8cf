/**
 * A call's flow, live on the desks (issue 10): every flow event the runner
 * raises becomes a `flow` frame to the desks that watch the call, so an agent
 * sees the phone menu, the recording, the transcript and the dial outcome of
 * a call ringing at it or waiting in its queue while they happen (the call's
 * context carries only what was stored before the ring). Who watches:
 * - the agents ringing for, or talking on, the call;
 * - the agents of the queue the call waits in (its `queue.*` events, or the
 *   queue its record names);
 * - while it is in no queue (a DID's phone menu before any routing), the
 *   agents of the call's tenant: any of them may get it next.
 * Partial transcripts (several a second while the caller speaks) go only to
 * the agents ringing for or talking on the call.
 *
 * A flow event sink: called inline by the runner, it must not throw or block;
 * the hub queues each frame behind the agent's earlier events (a `ring` and
 * its context are read from the store first), so every desk gets them in order.
 */
import { STORED_FLOW_EVENTS, type DeskEvent, type FlowEvent } from '@parley/shared/protocol';
import type { AgentDirectory } from '../agents/index.js';
import type { CallManager } from '../calls/index.js';
import type { FlowEventSink } from '../flows/index.js';

/** What the feed needs of the desk hub. */
export interface DeskNotifier {
  notify(agentId: string, event: DeskEvent): void;
}

/** Events of one flow in progress kept for a desk that connects (a long flow keeps its last ones). */
export const REPLAYED_PER_CALL = 100;
const KEPT: ReadonlySet<string> = new Set(STORED_FLOW_EVENTS);

export class DeskFlowFeed implements FlowEventSink {
  readonly #desk: DeskNotifier;
  readonly #calls: CallManager;
  readonly #agents: AgentDirectory;
  /** callId → the queue its flow put it in (from `queue.position` / `queue.offered`). */
  readonly #queues = new Map<string, string>();
  /** callId → the stored kinds of events of its flow so far, until `flow.end`. */
  readonly #running = new Map<string, FlowEvent[]>();

  constructor(deps: { desk: DeskNotifier; calls: CallManager; agents: AgentDirectory }) {
    this.#desk = deps.desk;
    this.#calls = deps.calls;
    this.#agents = deps.agents;
  }

  event(event: FlowEvent): void {
    if (event.type === 'queue.position' || event.type === 'queue.offered')
      this.#queues.set(event.callId, event.queue);
    const frame: DeskEvent = { type: 'flow', event };
    for (const agentId of this.watchers(event)) this.#desk.notify(agentId, frame);
    // A redirect ends one flow and starts the next; the queue is learnt again from its events.
    if (event.type === 'flow.end') {
      this.#queues.delete(event.callId);
      this.#running.delete(event.callId);
    } else if (KEPT.has(event.type)) {
      const kept = this.#running.get(event.callId) ?? [];
      kept.push(event);
      if (kept.length > REPLAYED_PER_CALL) kept.shift();
      this.#running.set(event.callId, kept);
    }
  }

  /** The flows in progress `agentId` watches, as frames (a desk that just connected catches up). */
  replay(agentId: string): DeskEvent[] {
    const out: DeskEvent[] = [];
    for (const events of this.#running.values()) {
      const last = events.at(-1);
      if (last && this.watchers(last).has(agentId))
        for (const event of events) out.push({ type: 'flow', event });
    }
    return out;
  }

  /** The agents whose desks get `event` (exported for the unit test's sake, no state changes). */
  watchers(event: FlowEvent): Set<string> {
    const call = this.#calls.get(event.callId);
    const near = new Set<string>(call?.ringingAgents ?? []);
    if (call?.agentId !== undefined) near.add(call.agentId);
    if (event.type === 'transcript.partial') return near;
    const queue = this.#queues.get(event.callId) ?? call?.record.queue ?? null;
    for (const agent of this.#agents.list()) {
      if (agent.tenant !== event.tenant) continue;
      if (queue === null || agent.queues.includes(queue)) near.add(agent.id);
    }
    return near;
  }

  /** Calls whose queue or events are remembered now (leak checks). */
  get size(): number {
    return new Set([...this.#queues.keys(), ...this.#running.keys()]).size;
  }
}
