/**
 * Who gets the next free agent: run whenever something changed for a queue
 * (an agent may be free, a caller joined, an offer was declined), never on a
 * timer. One pass goes down the waiting callers, best first, and gives each
 * the best free agent that serves its value band and has not just let it
 * ring out; each pairing is claimed atomically in the queue state, so no
 * agent is offered two callers and no caller two agents, however many
 * passes (of one queue or of several queues sharing agents) run at once.
 * Passes of one queue run one after the other; a change during a pass
 * makes another pass follow it.
 */
import type { Logger } from '../observability/index.js';
import type { QueueAgents } from './ports.js';
import type { QueueState, WaitingEntry } from './queue-state.js';

export interface DispatcherDeps {
  readonly state: QueueState;
  readonly agents: QueueAgents;
  readonly logger: Logger;
  readonly now: () => number;
  /** The pairing is claimed: ring the agent for the caller. `decisionMs`: from the change to the claim. */
  offer(entry: WaitingEntry, agentId: string, decisionMs: number): void;
  /** The agent let this caller ring out recently: do not offer it again yet. */
  excluded(callId: string, agentId: string): boolean;
  /** After each pass, with the callers still waiting, best first (positions, desk). */
  settled(queue: string, waiting: readonly WaitingEntry[]): void;
}

export class QueueDispatcher {
  readonly #deps: DispatcherDeps;
  readonly #running = new Map<string, Promise<void>>();
  /** Queues changed during their pass, with the time of the first such change. */
  readonly #again = new Map<string, number>();

  constructor(deps: DispatcherDeps) {
    this.#deps = deps;
  }

  /** Something changed for `queue`. Resolves when a pass that saw the change is over. */
  poke(queue: string): Promise<void> {
    const at = this.#deps.now();
    const running = this.#running.get(queue);
    if (running) {
      if (!this.#again.has(queue)) this.#again.set(queue, at);
      // The pass loop runs again for this change before `running` settles.
      return running;
    }
    const run = (async () => {
      let since = at;
      for (;;) {
        try {
          await this.#pass(queue, since);
        } catch (error) {
          this.#deps.logger.error({ err: error, queue }, 'queue pass failed');
        }
        const next = this.#again.get(queue);
        if (next === undefined) {
          // In the same turn as the check: a poke after it starts a new run
          // rather than leaving its change to a run that has already decided to stop.
          this.#running.delete(queue);
          return;
        }
        this.#again.delete(queue);
        since = next;
      }
    })();
    this.#running.set(queue, run);
    return run;
  }

  async #pass(queue: string, since: number): Promise<void> {
    const { state, agents } = this.#deps;
    let waiting = await state.waiting(queue);
    // Any free agent at all? (No band: every agent of the queue.) If not, nothing to pair.
    const anyone = waiting.length > 0 ? agents.candidates(queue, undefined) : [];
    if (anyone.length > 0) {
      const busy = new Set((await state.offers()).keys());
      const byTier = new Map<string, readonly string[]>();
      let claimed = 0;
      for (const entry of waiting) {
        if (anyone.every((a) => busy.has(a))) break;
        const key = entry.tier ?? '';
        let candidates = byTier.get(key);
        if (!candidates) {
          candidates = entry.tier === undefined ? anyone : agents.candidates(queue, entry.tier);
          byTier.set(key, candidates);
        }
        const agent = candidates.find((a) => !busy.has(a) && !this.#deps.excluded(entry.callId, a));
        if (agent === undefined) continue;
        busy.add(agent);
        if (await state.claim(queue, entry.callId, agent)) {
          claimed += 1;
          this.#deps.offer(entry, agent, this.#deps.now() - since);
        }
      }
      if (claimed > 0) waiting = await state.waiting(queue);
    }
    this.#deps.settled(queue, waiting);
  }
}
