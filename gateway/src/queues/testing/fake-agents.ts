/**
 * Agents in memory, for queue tests and the queue benchmark: what the
 * adapter over `AgentDirectory` does, reduced to states the test sets.
 */
import type { QueueAgents } from '../ports.js';

export type FakeAgentState = 'available' | 'ringing' | 'busy' | 'away' | 'offline';

interface FakeAgent {
  readonly id: string;
  readonly queues: readonly string[];
  readonly tier: string | undefined;
  state: FakeAgentState;
  idleSince: number;
}

export class FakeAgents implements QueueAgents {
  readonly #agents = new Map<string, FakeAgent>();
  readonly #listeners = new Set<(agentId: string, queues: readonly string[]) => void>();
  /** queue → value band → agent tiers that serve it */
  readonly bands = new Map<string, Readonly<Record<string, readonly string[]>>>();
  meanHandleSeconds: number | undefined = 120;
  #clock = 0;

  add(
    id: string,
    queues: readonly string[],
    options: { tier?: string; state?: FakeAgentState } = {},
  ): void {
    this.#agents.set(id, {
      id,
      queues,
      tier: options.tier,
      state: options.state ?? 'busy',
      idleSince: this.#clock++,
    });
  }

  state(id: string): FakeAgentState | undefined {
    return this.#agents.get(id)?.state;
  }

  /** Changes an agent's state; a change to available is announced (as the directory's `change` is). */
  set(id: string, state: FakeAgentState): void {
    const agent = this.#agents.get(id);
    if (!agent) throw new Error(`no agent ${id}`);
    agent.state = state;
    if (state === 'available') agent.idleSince = this.#clock++;
    for (const listener of [...this.#listeners]) listener(id, agent.queues);
  }

  candidates(queue: string, tier: string | undefined): readonly string[] {
    const band = tier === undefined ? undefined : this.bands.get(queue)?.[tier];
    return [...this.#agents.values()]
      .filter((a) => a.queues.includes(queue) && a.state === 'available')
      .filter((a) => band === undefined || (a.tier !== undefined && band.includes(a.tier)))
      .sort(
        (a, b) =>
          (band ? band.indexOf(a.tier!) - band.indexOf(b.tier!) : 0) || a.idleSince - b.idleSince,
      )
      .map((a) => a.id);
  }

  staffing(queue: string): { agents: number; meanHandleSeconds: number | undefined } {
    const agents = [...this.#agents.values()].filter(
      (a) => a.queues.includes(queue) && a.state !== 'away' && a.state !== 'offline',
    ).length;
    return { agents, meanHandleSeconds: this.meanHandleSeconds };
  }

  onAgentChange(listener: (agentId: string, queues: readonly string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
