/**
 * Overload protection: a new INVITE is refused at once (503 overloaded,
 * Retry-After), before any work, while too many calls are being set up or the
 * event loop runs late, so retransmissions do not pile up on a busy gateway.
 */
export interface OverloadLimits {
  /** Calls routing or ringing at once. */
  readonly maxSetupsInProgress: number;
  /** How late a 50 ms timer may fire (smoothed) before INVITEs are refused. */
  readonly maxLagMs: number;
}

export interface OverloadGuard {
  /** Whether a new call must be refused now. */
  overloaded(): boolean;
  /** Stops the lag monitor. */
  close(): void;
}

export function overloadGuard(limits: OverloadLimits, settingUp: () => number): OverloadGuard {
  const lag = lagMonitor();
  return {
    overloaded: () => settingUp() >= limits.maxSetupsInProgress || lag.current() > limits.maxLagMs,
    close: () => lag.stop(),
  };
}

/** How late a 50 ms timer fires: the event loop's current lag (a smoothed value). */
function lagMonitor(): { current(): number; stop(): void } {
  let lag = 0;
  let expected = performance.now() + 50;
  const timer = setInterval(() => {
    const now = performance.now();
    lag = lag * 0.5 + Math.max(0, now - expected) * 0.5;
    expected = now + 50;
  }, 50);
  timer.unref();
  return { current: () => lag, stop: () => clearInterval(timer) };
}
