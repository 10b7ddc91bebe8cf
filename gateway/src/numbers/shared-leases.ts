/**
 * Caller-ID numbers agreed between the gateways of a cluster (issue 16): each
 * gateway keeps its own copy of the pool, and before a visitor's call takes a
 * number it claims it here, so no two sessions hold one number at once and a
 * session keeps its number whichever gateway its next call reaches. The Redis
 * implementation is `cluster/number-leases.ts`.
 */
export interface SharedNumberLeases {
  /**
   * The number the cluster last gave this holder (a session: `tenant\nsessionId`),
   * taken again for `ttlMs` when it is still free or the holder's; undefined
   * when there is none or another holder has it. One round trip: a returning
   * session's call needs nothing more.
   */
  reclaim(holder: string, ttlMs: number): Promise<string | undefined>;
  /**
   * Takes `number` for `holder` for `ttlMs` (or keeps it, if already the
   * holder's). False when another holder has it. When the shared store cannot
   * answer, true: the gateway then leases as it would alone.
   */
  claim(number: string, holder: string, ttlMs: number): Promise<boolean>;
  /** The holder has a call on the number: keep it while the call lasts (renewed every heartbeat). */
  hold(number: string, holder: string): void;
  /** Its last call ended: the claim lapses `ttlMs` from now (the grace period). */
  unhold(number: string, holder: string, ttlMs: number): void;
}
