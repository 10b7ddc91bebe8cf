/**
 * Bringing a call back after its WebSocket dropped (issue 16 item 4): the
 * SIP WebSocket is opened again with back-off, and the call is rebound to it
 * with a re-INVITE in the same dialog (RFC 3261 §14) carrying the rebind key
 * the gateway gave in its 200 OK (`gateway/src/calls/rebind.ts`), all within
 * a bounded window. The media (peer connection, data channel) is never torn
 * down: when it survived, the re-INVITE renegotiates nothing; when the network
 * changed too, the re-INVITE is an ICE restart.
 *
 * ```
 *   connect ──ok──▶ rebind ──2xx──▶ resolved { ok: true }
 *     │  ▲            │
 *     │  └─ back-off ◀┘ transport error (the socket dropped again)
 *     │                 final failure: { ok: false, code } (481/408: the gateway
 *     ▼                 gave up, `reconnect_expired`; 403 `reconnect_refused`)
 *   fails: back-off (250 ms doubling to 4 s, jittered), until the window ends:
 *   { ok: false, code: 'reconnect_expired' }
 * ```
 *
 * sip.js's own reconnection (`reconnectionAttempts`) retries at a fixed delay
 * and knows nothing of the call; this loop owns both steps and its deadline.
 */

/** How a dropped call is brought back; defaults in `RECONNECT_DEFAULTS`. */
export interface ReconnectPolicy {
  /** The whole window, from the drop to giving up (the gateway keeps the call 20 s by default). */
  readonly windowMs: number;
  /** The wait after the first failed try; doubled after each, up to `maxDelayMs`. */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
}

export const RECONNECT_DEFAULTS: ReconnectPolicy = {
  windowMs: 20_000,
  firstDelayMs: 250,
  maxDelayMs: 4_000,
};

export type RebindOutcome =
  | { readonly ok: true }
  /** `retry`: the connection failed under the request; try again. */
  | { readonly ok: false; readonly code: string; readonly retry?: boolean };

export interface ReconnectSteps {
  /** Opens the WebSocket again; rejects when it could not (within `timeoutMs`). */
  connect(timeoutMs: number): Promise<void>;
  /** Sends the rebind re-INVITE over the open WebSocket. */
  rebind(timeoutMs: number): Promise<RebindOutcome>;
}

export interface ReconnectClock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** In [0, 1): spreads many visitors' retries after a gateway restart. */
  random(): number;
}

export const realClock: ReconnectClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    }),
  random: () => Math.random(),
};

/** The wait before try `n` (0-based; the first try is immediate). */
export function backoffDelay(policy: ReconnectPolicy, n: number, random: number): number {
  if (n <= 0) return 0;
  const base = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (n - 1));
  return Math.round(base * (0.5 + random / 2));
}

/**
 * Tries until the call is rebound, refused, or the window is over. Aborting
 * `signal` (the visitor hung up) resolves `{ ok: false, code: 'aborted' }`.
 */
export async function reconnect(
  steps: ReconnectSteps,
  signal: AbortSignal,
  policy: ReconnectPolicy = RECONNECT_DEFAULTS,
  clock: ReconnectClock = realClock,
): Promise<RebindOutcome> {
  const deadline = clock.now() + policy.windowMs;
  const expired: RebindOutcome = { ok: false, code: 'reconnect_expired' };
  for (let n = 0; ; n++) {
    const wait = backoffDelay(policy, n, clock.random());
    if (clock.now() + wait >= deadline) return expired;
    if (wait > 0) await clock.sleep(wait, signal);
    if (signal.aborted) return { ok: false, code: 'aborted' };
    const left = deadline - clock.now();
    if (left <= 0) return expired;
    try {
      await steps.connect(left);
    } catch {
      if (signal.aborted) return { ok: false, code: 'aborted' };
      continue;
    }
    if (signal.aborted) return { ok: false, code: 'aborted' };
    const outcome = await steps
      .rebind(Math.max(1, deadline - clock.now()))
      .catch((): RebindOutcome => ({ ok: false, code: 'network_lost', retry: true }));
    if (signal.aborted) return { ok: false, code: 'aborted' };
    if (outcome.ok || !outcome.retry) return outcome;
  }
}
