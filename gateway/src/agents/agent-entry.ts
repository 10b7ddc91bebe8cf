/**
 * What the directory holds of one agent, and the presence shown from it:
 * this gateway's own counts of the agent's calls plus those the cluster's
 * other gateways told (`RemoteCalls`, shared by `cluster/agent-calls.ts`), so
 * an agent ringing or talking through gateway A shows ringing or busy on B.
 */
import type {
  AgentAvailability,
  AgentConfig,
  AgentContact,
  AgentPresence,
  AgentState,
  ChangeOrigin,
} from './agent-types.js';

/** The agent's calls on another gateway, as it last told them, valid until `until` (epoch ms). */
export interface RemoteCalls {
  readonly ringing: number;
  readonly activeCalls: number;
  /** The telling gateway renews it every heartbeat while it has calls; a dead one's lapse. */
  readonly until: number;
}

export interface AgentEntry {
  config: AgentConfig;
  /** The fixed contact (if any) and those registered through this gateway. */
  contacts: AgentContact[];
  /** Contacts registered through other gateways, by their instance id. */
  remote: Map<ChangeOrigin, readonly AgentContact[]>;
  /** The agent's calls on other gateways, by their instance id (kept at zero until `until`). */
  remoteCalls: Map<ChangeOrigin, RemoteCalls>;
  /** Drops the first of `remoteCalls` to lapse. */
  remoteCallsTimer: NodeJS.Timeout | undefined;
  availabilityAt: number;
  /** Calls answered through this gateway. */
  activeCalls: number;
  /** Calls ringing through this gateway. */
  ringing: number;
  idleSince: number | undefined;
  availability: AgentAvailability;
  wrapUpUntil: number | undefined;
  /** The wrap-up was given here (told to the others), not by another gateway. */
  wrapUpLocal: boolean;
  /** When the wrap-up was given (epoch ms). */
  wrapUpAt: number;
  wrapUpTimer: NodeJS.Timeout | undefined;
  /** Lengths of the last answered calls, seconds, newest last. */
  handled: number[];
}

export const usernameOf = (config: AgentConfig) => config.username ?? config.id;

/** Contacts not expired: this gateway's and the others'. */
export function reachable(entry: AgentEntry, now: number): AgentContact[] {
  return [entry.contacts, ...entry.remote.values()].flat().filter((c) => c.expiresAt > now);
}

/** The agent's calls on every gateway: this one's and the others' not lapsed. */
export function callTotals(
  entry: AgentEntry,
  now: number,
): { ringing: number; activeCalls: number } {
  let { ringing, activeCalls } = entry;
  for (const calls of entry.remoteCalls.values()) {
    if (calls.until <= now) continue;
    ringing += calls.ringing;
    activeCalls += calls.activeCalls;
  }
  return { ringing, activeCalls };
}

export function presenceOf(entry: AgentEntry, now: number): AgentPresence {
  const contacts = reachable(entry, now);
  const registered = contacts.length > 0;
  const { ringing, activeCalls } = callTotals(entry, now);
  const { maxCalls } = entry.config;
  // An agent (or a trunk) with room for more calls is still offered calls while one rings.
  const state: AgentState = !registered
    ? 'offline'
    : activeCalls >= maxCalls
      ? 'busy'
      : activeCalls + ringing >= maxCalls
        ? 'ringing'
        : entry.availability === 'away'
          ? 'away'
          : entry.wrapUpUntil !== undefined
            ? 'wrap-up'
            : 'available';
  const handled = entry.handled;
  return {
    id: entry.config.id,
    tenant: entry.config.tenant,
    username: usernameOf(entry.config),
    displayName: entry.config.displayName,
    queues: entry.config.queues,
    maxCalls,
    source: entry.config.source ?? 'config',
    state,
    registered,
    contacts,
    activeCalls,
    ringing,
    idleSince: entry.idleSince,
    tier: entry.config.tier,
    skills: entry.config.skills ?? [],
    availability: entry.availability,
    wrapUpUntil: entry.wrapUpUntil,
    recentHandleSeconds:
      handled.length > 0
        ? Math.round(handled.reduce((a, b) => a + b, 0) / handled.length)
        : undefined,
  };
}
