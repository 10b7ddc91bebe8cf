/**
 * RFC 3261 §17 timers (Table 4 of §A), with RFC 6026's L and M. All derive
 * from T1, T2 and T4, which config may shorten for tests.
 */
export interface TimerBase {
  /** RTT estimate, default 500 ms. */
  readonly t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s. */
  readonly t2: number;
  /** Maximum duration a message remains in the network, default 5 s. */
  readonly t4: number;
}

export const DEFAULT_TIMERS: TimerBase = { t1: 500, t2: 4000, t4: 5000 };

export function timerValues(base: TimerBase, reliable: boolean) {
  return {
    /** The cap of every doubling retransmit interval. */
    T2: base.t2,
    /** INVITE request retransmit, starts at T1 and doubles (unreliable only). */
    A: base.t1,
    /** INVITE transaction timeout. */
    B: 64 * base.t1,
    /** Wait time for response retransmits (ICT Completed). */
    D: reliable ? 0 : Math.max(32_000, 64 * base.t1),
    /** Non-INVITE request retransmit, starts at T1, doubles up to T2. */
    E: base.t1,
    /** Non-INVITE transaction timeout. */
    F: 64 * base.t1,
    /** INVITE response retransmit, starts at T1, doubles up to T2. */
    G: base.t1,
    /** Wait time for ACK receipt. */
    H: 64 * base.t1,
    /** Wait time for ACK retransmits. */
    I: reliable ? 0 : base.t4,
    /** Wait time for non-INVITE request retransmits. */
    J: reliable ? 0 : 64 * base.t1,
    /** Wait time for response retransmits (NICT Completed). */
    K: reliable ? 0 : base.t4,
    /** RFC 6026: IST Accepted, absorbs INVITE retransmissions after a 2xx. */
    L: 64 * base.t1,
    /** RFC 6026: ICT Accepted, passes retransmitted 2xx to the TU. */
    M: 64 * base.t1,
  };
}

export type TimerValues = ReturnType<typeof timerValues>;
