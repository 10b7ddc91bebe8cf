/**
 * When to try again after a connection dropped (the events socket, the
 * softphone's SIP WebSocket). A policy like LiveKit's `ReconnectPolicy`: it
 * sees how many tries failed in a row and answers with a delay, or null to
 * give up.
 */
export interface ReconnectPolicy {
  /** Milliseconds before try number `attempt` (1 for the first retry), or null to stop. */
  nextDelayMs(attempt: number): number | null;
}

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Share of the delay that is random (0–1), so many desks do not reconnect in step. */
  readonly jitter: number;
  readonly random: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 500,
  maxMs: 30_000,
  jitter: 0.3,
  random: Math.random,
};

/** Exponential backoff (0.5 s, 1 s, 2 s … capped at 30 s) with jitter; never gives up. */
export function exponentialBackoff(options: Partial<BackoffOptions> = {}): ReconnectPolicy {
  const { initialMs, maxMs, jitter, random } = { ...DEFAULT_BACKOFF, ...options };
  return {
    nextDelayMs(attempt) {
      const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
      return Math.round(base * (1 - jitter + jitter * random()));
    },
  };
}
