/**
 * Claims on slots shared by every gateway of a cluster: each of an agent's
 * `maxCalls` (so an agent is never offered more calls than that by several
 * gateways at once: each gateway's AgentDirectory learns of the others' calls
 * only a moment after they claimed, `cluster/agent-calls.ts`),
 * each of a tenant's `maxConcurrentCalls`. A call leg claims a slot before it
 * rings the agent (a call before it is admitted), holds it once answered
 * (admitted), and releases it when it stops ringing or its call ends.
 */
export interface SlotClaims {
  /**
   * Claims one of `id`'s `max` slots for `holder` (unique per leg or call) for
   * `ttlMs` (a crash frees it then). False when the cluster's others hold them all.
   */
  claim(id: string, max: number, holder: string, ttlMs: number): Promise<boolean>;
  /** The slot is kept (renewed) for as long as the call lasts. */
  hold(id: string, holder: string): void;
  /** The leg stopped ringing or the call ended. Safe twice. */
  release(id: string, holder: string): void;
}

/** Agents' call slots (`maxCalls`). */
export type AgentLocks = SlotClaims;

/** One gateway alone: its own counts are the whole truth, nothing to claim. */
export const LOCAL_SLOT_CLAIMS: SlotClaims = {
  claim: () => Promise.resolve(true),
  hold: () => undefined,
  release: () => undefined,
};
export const LOCAL_AGENT_LOCKS: AgentLocks = LOCAL_SLOT_CLAIMS;
