/**
 * Callbacks, live on the desks (issue 13): the desks of a callback's
 * destination see it from the moment the gateway calls the customer: calling,
 * the customer's phone ringing, the prompt, the key (`1` accepted: the agents
 * are being rung; `2` declined), the agent it is bridged to, and how it ended
 * (declined, no key, no answer, busy, completed…), with what it is about (the
 * listing or queue, the advertiser's name, the page it was asked from, the
 * customer's number masked).
 *
 * Whose desks: the agents of the queue the callback targets (a queue, or a
 * listing whose destination is a queue), or the agent it targets; and any
 * agent it rings (it may be offered outside its queue: a listing to an agent).
 * A listing whose advertiser is a phone number has no desk to tell.
 * Frames go through the hub, in order per agent.
 */
import {
  maskPhone,
  type CallbackPhase,
  type DeskCallbackView,
  type DeskEvent,
} from '@parley/shared/protocol';
import type { AgentDirectory } from '../agents/index.js';
import type { CallbackRecord } from '../callbacks/index.js';
import type { CallbackDeskFeed } from '../callbacks/runner.js';
import type { DeskNotifier } from './flow-feed.js';

const iso = (t: number | null | undefined) => (t == null ? null : new Date(t).toISOString());

/** The frame's view of a callback at `phase`; `agentId` rung or talking. */
export function deskCallbackView(
  record: CallbackRecord,
  phase: CallbackPhase,
  agentId: string | null,
  at: number,
): DeskCallbackView {
  const attempt = record.attempts.at(-1);
  return {
    id: record.id,
    phase,
    attempt: record.attempts.length,
    outcome: record.outcome,
    code: record.code,
    destination: record.destination,
    listingId: record.listingId,
    advertiserName: record.advertiserName,
    page: record.page,
    phone: maskPhone(record.phone),
    key: attempt?.key ?? null,
    keyAt: iso(attempt?.keyAt),
    agentId,
    privateClaims: record.privateClaims,
    at: new Date(at).toISOString(),
  };
}

interface LiveCallback {
  readonly rung: Set<string>;
  agent: string | null;
  /** The last frame sent and its record (replayed to a desk that connects). */
  last?: { readonly record: CallbackRecord; readonly frame: DeskEvent };
}

export class DeskCallbackFeed implements CallbackDeskFeed {
  readonly #desk: DeskNotifier;
  readonly #agents: AgentDirectory;
  readonly #now: () => number;
  /** Per live callback: agents rung for it (they keep seeing it to its end), and who answered. */
  readonly #live = new Map<string, LiveCallback>();

  constructor(deps: { desk: DeskNotifier; agents: AgentDirectory; now: () => number }) {
    this.#desk = deps.desk;
    this.#agents = deps.agents;
    this.#now = deps.now;
  }

  progress(record: CallbackRecord, phase: CallbackPhase): void {
    const live = this.#entry(record.id);
    this.#send(record, phase, phase === 'connected' || phase === 'ended' ? live.agent : null);
    // A retry is scheduled, or it is over: the next attempt starts afresh.
    if (phase === 'ended' || phase === 'scheduled') this.#live.delete(record.id);
  }

  ringing(agentId: string, record: CallbackRecord): void {
    this.#entry(record.id).rung.add(agentId);
    this.#send(record, 'connecting', agentId);
  }

  /** An agent stopped ringing: the next frame (another agent, `connected`, `ended`) says where it went. */
  stopped(): void {}

  answered(agentId: string, record: CallbackRecord): void {
    const live = this.#entry(record.id);
    live.rung.add(agentId);
    live.agent = agentId;
  }

  ended(agentId: string, record: CallbackRecord): void {
    this.#entry(record.id).agent = agentId;
  }

  /** Agents whose desks see `record` (exported for tests). */
  watchers(record: CallbackRecord): Set<string> {
    const target = record.target;
    const out = new Set<string>(this.#live.get(record.id)?.rung ?? []);
    for (const agent of this.#agents.list()) {
      if (agent.tenant !== record.tenant) continue;
      if (
        (target.kind === 'queue' && agent.queues.includes(target.queue)) ||
        (target.kind === 'agent' && agent.id === target.agent)
      )
        out.add(agent.id);
    }
    return out;
  }

  /** Live callbacks tracked now (leak checks). */
  get size(): number {
    return this.#live.size;
  }

  /** The last frame of each live callback `agentId` watches (a desk that just connected). */
  replay(agentId: string): DeskEvent[] {
    const out: DeskEvent[] = [];
    for (const live of this.#live.values())
      if (live.last && this.watchers(live.last.record).has(agentId)) out.push(live.last.frame);
    return out;
  }

  #entry(id: string): LiveCallback {
    let live = this.#live.get(id);
    if (!live) {
      live = { rung: new Set(), agent: null };
      this.#live.set(id, live);
    }
    return live;
  }

  #send(record: CallbackRecord, phase: CallbackPhase, agentId: string | null): void {
    const frame: DeskEvent = {
      type: 'callback',
      callback: deskCallbackView(record, phase, agentId, this.#now()),
    };
    for (const watcher of this.watchers(record)) this.#desk.notify(watcher, frame);
    const live = this.#live.get(record.id);
    if (live) live.last = { record, frame };
  }
}
