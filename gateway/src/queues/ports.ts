/**
 * What queueing needs from the agents (the adapter over `AgentDirectory` and
 * `rankCandidates` implements it): who could take a caller now, how many
 * agents staff the queue, and a signal whenever an agent may have become
 * free, so that the next caller is offered at once (event-driven, never
 * polled).
 */
export interface QueueAgents {
  /**
   * Agents of `queue` free to take a caller of value band `tier` now, best
   * first (the queue's bands, then longest idle): registered, available, not
   * ringing, not in wrap-up. Agents with an offer of the queue in progress
   * may be listed; the queue skips them itself.
   */
  candidates(queue: string, tier: string | undefined): readonly string[];
  /**
   * Agents signed in for `queue` and not away (free, ringing, busy or in
   * wrap-up), and the mean of their recent handle times (seconds), for the
   * estimated wait.
   */
  staffing(queue: string): {
    readonly agents: number;
    readonly meanHandleSeconds: number | undefined;
  };
  /**
   * Calls `listener` whenever an agent's presence changed in a way that may
   * free it (a call ended, wrap-up over, available again, registered), with
   * the queues it serves in the order they get it. Returns the unsubscribe.
   */
  onAgentChange(listener: (agentId: string, queues: readonly string[]) => void): () => void;
}

/**
 * Queue changes shared with the cluster's other gateways (with Redis; none on
 * a single gateway): when a gateway changed a queue (a caller joined, left or
 * was declined, an offer was claimed) or an agent may have come free on it,
 * the others look at the queue again: their dispatchers offer their own
 * callers, in the cluster's order, and give their callers and desks the new
 * positions. A notice carries no state; the shared `QueueState` is the truth.
 */
export interface QueueChanges {
  /** Tells the other gateways that `queue` changed. Fire and forget. */
  publish(queue: string): void;
  /** `listener` gets the queues the others (or the shared state's sweeper) changed. Returns the unsubscribe. */
  subscribe(listener: (queue: string) => void): () => void;
}
