/**
 * What the desk follows live besides its own calls: the flows of calls that
 * may reach the agent (`flow` frames: the phone menu, a recording, a
 * transcript, a dial, while they happen), the callbacks of its queues
 * (`callback` frames, one per phase) and who waits in its queues (`queue`). No DOM: the element lists the view.
 * Frames come in order per call; one seen twice (a reconnect) is dropped by
 * its `seq`.
 */
import type { DeskCallbackView, FlowEvent, QueueView } from '@parley/shared/protocol';
import { flowStepText, verbStartText } from './flow-text.js';

/** A call's flow as the desk shows it. */
export interface LiveFlow {
  readonly callId: string;
  /** The flow running (its name). */
  readonly flow: string;
  /** What happened so far, oldest first. */
  readonly steps: readonly string[];
  /** The verb running now ("Waiting for keys"), while one runs. */
  readonly now: string | undefined;
  readonly ended: boolean;
}

interface FlowEntry {
  callId: string;
  flow: string;
  steps: string[];
  now: string | undefined;
  ended: boolean;
  seq: number;
}

/** Flows and callbacks kept once over (the newest), so the panel does not grow forever. */
export const LIVE_KEPT_ENDED = 5;

export class LiveActivity {
  readonly #flows = new Map<string, FlowEntry>();
  readonly #callbacks = new Map<string, DeskCallbackView>();
  readonly #queues = new Map<string, QueueView>();

  /** A `queue` frame: who waits in one of the agent's queues now. */
  queue(view: QueueView): void {
    this.#queues.set(view.queue, view);
  }

  /** The agent's queues with someone waiting or being offered, by name. */
  get queues(): QueueView[] {
    return [...this.#queues.values()]
      .filter((q) => q.waiting > 0 || q.offered > 0)
      .sort((a, b) => a.queue.localeCompare(b.queue));
  }

  /** A `flow` frame; false when it changed nothing (seen before). */
  flow(event: FlowEvent): boolean {
    let entry = this.#flows.get(event.callId);
    if (entry && event.seq <= entry.seq) return false;
    if (!entry) {
      entry = {
        callId: event.callId,
        flow: event.flow,
        steps: [],
        now: undefined,
        ended: false,
        seq: 0,
      };
      this.#flows.set(event.callId, entry);
    }
    entry.seq = event.seq;
    entry.flow = event.flow;
    const started = verbStartText(event);
    if (started !== undefined) {
      entry.now = started;
      return true;
    }
    const line = liveStepText(event);
    if (line !== undefined) entry.steps.push(line);
    if (event.type === 'verb.result' || event.type === 'verb.error') entry.now = undefined;
    if (event.type === 'flow.end') {
      entry.now = undefined;
      entry.ended = true;
      this.#trim(this.#flows, (e) => e.ended);
    }
    return true;
  }

  /** A `callback` frame; false when it is older than what is shown. */
  callback(view: DeskCallbackView): boolean {
    const known = this.#callbacks.get(view.id);
    if (known && known.at > view.at) return false;
    // Re-inserted: the map's order is the order of their latest change.
    this.#callbacks.delete(view.id);
    this.#callbacks.set(view.id, view);
    if (view.phase === 'ended') this.#trim(this.#callbacks, (v) => v.phase === 'ended');
    return true;
  }

  get flows(): LiveFlow[] {
    return [...this.#flows.values()].map((e) => ({
      callId: e.callId,
      flow: e.flow,
      steps: [...e.steps],
      now: e.now,
      ended: e.ended,
    }));
  }

  get callbacks(): DeskCallbackView[] {
    return [...this.#callbacks.values()];
  }

  clear(): void {
    this.#flows.clear();
    this.#callbacks.clear();
    this.#queues.clear();
  }

  /** Drops the oldest finished entries beyond LIVE_KEPT_ENDED. */
  #trim<V>(map: Map<string, V>, over: (v: V) => boolean): void {
    const done = [...map].filter(([, v]) => over(v));
    for (const [key] of done.slice(0, Math.max(0, done.length - LIVE_KEPT_ENDED))) map.delete(key);
  }
}

/** A live step: the stored steps' lines, and where a queue offered the call, and the end. */
function liveStepText(event: FlowEvent): string | undefined {
  switch (event.type) {
    case 'queue.offered':
      return `Offered to ${event.agentId} (${event.queue})`;
    case 'flow.end':
      return event.reason === 'caller_hangup' ? 'The caller hung up' : undefined;
    default:
      return flowStepText(event);
  }
}
