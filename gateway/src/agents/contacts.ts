import type { AgentContact } from './agent-directory.js';

/**
 * The contact an agent's call goes to: of those not expired at `now`, the one
 * that lives longest (a phone's newest registration, or a fixed contact, which
 * never expires). Undefined when the agent cannot be reached.
 */
export function reachableContact(
  contacts: readonly AgentContact[],
  now: number,
): AgentContact | undefined {
  let best: AgentContact | undefined;
  for (const contact of contacts)
    if (contact.expiresAt > now && (!best || contact.expiresAt > best.expiresAt)) best = contact;
  return best;
}
