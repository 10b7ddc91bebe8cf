import type { AgentDirectory, AgentPresence } from './agent-directory.js';

/**
 * Candidate agents for a call to `queue` of `tenant`, best first: registered,
 * in the queue, not busy and not already ringing for another call, longest idle
 * first. `exclude` holds agents this call already tried.
 */
export function longestIdleCandidates(
  directory: AgentDirectory,
  tenant: string,
  queue: string,
  exclude: ReadonlySet<string> = new Set(),
): AgentPresence[] {
  return directory
    .list({ tenant })
    .filter((a) => a.queues.includes(queue) && a.state === 'available' && !exclude.has(a.id))
    .sort((a, b) => (a.idleSince ?? 0) - (b.idleSince ?? 0));
}
