/**
 * The agents queueing offers callers to, from the agent directory and the
 * value routing's ranking (`routing/`): the adapter of the `QueueAgents` port
 * over this gateway's own presence. Presence changes that leave an agent
 * available are what wake the queue: nothing polls.
 */
import type { AgentDirectory, AgentPresence } from '../agents/index.js';
import { rankCandidates, type QueueRouting } from '../routing/index.js';
import type { QueueAgents } from './ports.js';

export class DirectoryQueueAgents implements QueueAgents {
  readonly #directory: AgentDirectory;
  readonly #queue: (name: string) => { tenant: string; routing: QueueRouting } | undefined;
  readonly #now: () => number;

  constructor(
    directory: AgentDirectory,
    queue: (name: string) => { tenant: string; routing: QueueRouting } | undefined,
    now: () => number = Date.now,
  ) {
    this.#directory = directory;
    this.#queue = queue;
    this.#now = now;
  }

  candidates(queue: string, tier: string | undefined): readonly string[] {
    const q = this.#queue(queue);
    if (!q) return [];
    return rankCandidates(
      this.#directory,
      { tenant: q.tenant, queue, valueTier: tier, routing: q.routing },
      this.#now(),
    ).map((c) => c.agent.id);
  }

  staffing(queue: string): { agents: number; meanHandleSeconds: number | undefined } {
    const q = this.#queue(queue);
    if (!q) return { agents: 0, meanHandleSeconds: undefined };
    const staffed = this.#directory
      .list({ tenant: q.tenant })
      .filter((a) => a.queues.includes(queue) && a.registered && a.availability !== 'away');
    const handled = staffed.flatMap((a) =>
      a.recentHandleSeconds === undefined ? [] : [a.recentHandleSeconds],
    );
    return {
      agents: staffed.length,
      meanHandleSeconds:
        handled.length > 0 ? handled.reduce((sum, s) => sum + s, 0) / handled.length : undefined,
    };
  }

  onAgentChange(listener: (agentId: string, queues: readonly string[]) => void): () => void {
    const onChange = (presence: AgentPresence): void => {
      if (presence.state === 'available') listener(presence.id, presence.queues);
    };
    this.#directory.on('change', onChange);
    return () => this.#directory.off('change', onChange);
  }
}
