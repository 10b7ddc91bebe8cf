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
 *
 * In a cluster the waiting callers are every gateway's (the shared state),
 * and a gateway can offer only its own (their legs are here). A pass still
 * goes down the whole list in order: an agent it would give to another
 * gateway's caller is left for that gateway (which makes the same pass on
 * the same shared list when told of the change), so a later caller here does
 * not take it first. `claimed` says whether this pass claimed any offer.
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
  /** Whether the caller's leg is on this gateway (only those are offered here). */
  mine(callId: string): boolean;
  /**
   * After each pass, with the callers still waiting, best first (positions,
   * desk), the number being offered now, and whether the pass claimed any.
   */
  settled(queue: string, waiting: readonly WaitingEntry[], offered: number, claimed: boolean): void;
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
    let claimed = 0;
    if (anyone.length > 0) {
      const busy = new Set((await state.offers()).keys());
      const byTier = new Map<string, readonly string[]>();
      const now = this.#deps.now();
      for (const entry of waiting) {
        if (anyone.every((a) => busy.has(a))) break;
        const key = entry.tier ?? '';
        let candidates = byTier.get(key);
        if (!candidates) {
          candidates = entry.tier === undefined ? anyone : agents.candidates(queue, entry.tier);
          byTier.set(key, candidates);
        }
        const free = candidates.filter((a) => !busy.has(a) && (entry.declinedBy?.[a] ?? 0) <= now);
        if (free.length === 0) continue;
        if (!this.#deps.mine(entry.callId)) {
          // Another gateway's caller: that gateway offers it this agent.
          busy.add(free[0]!);
          continue;
        }
        for (const agent of free) {
          busy.add(agent);
          // Refused: the caller left, or the agent is taken (an offer, or a call on another gateway).
          if (!(await state.claim(queue, entry.callId, agent))) continue;
          claimed += 1;
          this.#deps.offer(entry, agent, this.#deps.now() - since);
          break;
        }
      }
      if (claimed > 0) waiting = await state.waiting(queue);
    }
    const size = await state.size(queue);
    this.#deps.settled(queue, waiting, Math.max(0, size - waiting.length), claimed > 0);
  }
}
