/**
 * Claims on an agent's call slots shared by every gateway of a cluster, so an
 * agent is never offered more calls than its `maxCalls` by several gateways at
 * once (each gateway's AgentDirectory only counts its own calls). A call leg
 * claims a slot before it rings the agent, holds it once answered, and
 * releases it when it stops ringing or its call ends.
 */
export interface AgentLocks {
  /**
   * Claims one of the agent's `maxCalls` slots for `holder` (unique per agent
   * leg) for `ttlMs` (a crash frees it then). False when the cluster's other
   * legs hold them all.
   */
  claim(agentId: string, maxCalls: number, holder: string, ttlMs: number): Promise<boolean>;
  /** The leg was answered: the slot is kept (renewed) for as long as the call lasts. */
  hold(agentId: string, holder: string): void;
  /** The leg stopped ringing or its call ended. Safe twice. */
  release(agentId: string, holder: string): void;
}

/** One gateway alone: its AgentDirectory's counts are the whole truth, nothing to claim. */
export const LOCAL_AGENT_LOCKS: AgentLocks = {
  claim: () => Promise.resolve(true),
  hold: () => undefined,
  release: () => undefined,
};
