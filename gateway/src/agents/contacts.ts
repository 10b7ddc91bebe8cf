import type { AgentConfig, AgentContact } from './agent-types.js';

/**
 * The contacts an agent has without registering, which never expire: its
 * fixed SIP contact, or its telephone number (a `tel:` URI the ring strategy
 * calls through a trunk).
 */
export function fixedContacts(config: AgentConfig): AgentContact[] {
  const forever = { expiresAt: Number.POSITIVE_INFINITY, flowId: undefined };
  if (config.contact) return [{ uri: config.contact, ...forever }];
  if (config.phone)
    return [
      {
        uri: `tel:${config.phone}`,
        ...forever,
        phone: { number: config.phone, trunk: config.trunk },
      },
    ];
  return [];
}

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
