/**
 * Which agents may take a call, best first: available agents of the queue
 * (registered, not busy, not ringing for another call, not away, not in
 * wrap-up), ranked by how well their tier matches the customer's value band,
 * then longest idle, then shortest recent handle time.
 */
import type { AgentDirectory, AgentPresence } from '../agents/index.js';
import type { CandidateView } from './value/types.js';

export interface QueueRouting {
  readonly strategy: 'sequential' | 'simultaneous';
  /** With `simultaneous`: how many agents ring at once. */
  readonly ringAtOnce: number;
  /**
   * Value band → agent tiers that serve it, best first. A band not listed, or a
   * queue without bands, may reach every agent of the queue.
   */
  readonly bands: Readonly<Record<string, readonly string[]>>;
}

export interface Candidate {
  readonly agent: AgentPresence;
  readonly view: CandidateView;
}

export function rankCandidates(
  directory: AgentDirectory,
  request: {
    tenant: string;
    queue: string;
    valueTier: string | undefined;
    routing: QueueRouting;
    exclude?: ReadonlySet<string>;
  },
  now: number,
): Candidate[] {
  const band =
    request.valueTier !== undefined ? request.routing.bands[request.valueTier] : undefined;
  const out: Candidate[] = [];
  for (const agent of directory.list({ tenant: request.tenant })) {
    if (
      !agent.queues.includes(request.queue) ||
      agent.state !== 'available' ||
      request.exclude?.has(agent.id)
    )
      continue;
    let rank = 0;
    if (band !== undefined) {
      const at = agent.tier !== undefined ? band.indexOf(agent.tier) : -1;
      if (at < 0) continue; // this band is served by other tiers only
      rank = at;
    }
    out.push({
      agent,
      view: {
        agentId: agent.id,
        agentTier: agent.tier,
        rank,
        idleMs: agent.idleSince === undefined ? 0 : now - agent.idleSince,
        recentHandleSeconds: agent.recentHandleSeconds,
      },
    });
  }
  return out.sort(
    (a, b) =>
      a.view.rank - b.view.rank ||
      b.view.idleMs - a.view.idleMs ||
      (a.view.recentHandleSeconds ?? 0) - (b.view.recentHandleSeconds ?? 0) ||
      a.agent.id.localeCompare(b.agent.id),
  );
}
