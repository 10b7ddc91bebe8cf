/**
 * The marketplace's periodic work once started: the billing heartbeat (that
 * the gateway is alive: recovery's bound on when its calls could still be
 * up), the housekeeping (budgets resumed when a new day starts) and, with the
 * shared stores, the refresh of what other gateways changed.
 */
import type { Logger } from '../observability/index.js';

const HEARTBEAT_MS = 1000;
/** With the shared ledger: how often the index learns the funds and spend other gateways changed. */
const SHARED_REFRESH_MS = 5000;
const HOUSEKEEPING_MS = 60_000;

export interface MarketplaceWork {
  heartbeat(): Promise<void>;
  housekeeping(): void;
  /** Only with the shared stores. */
  readonly refreshShared?: (() => Promise<void>) | undefined;
  readonly log: Logger;
}

/** Starts the timers (unref'd: they keep no process alive); clear them with `clearInterval`. */
export function startMarketplaceTimers(work: MarketplaceWork): NodeJS.Timeout[] {
  const { log, refreshShared } = work;
  const heartbeat = setInterval(() => {
    work
      .heartbeat()
      .catch((error: unknown) => log.warn({ err: error }, 'marketplace heartbeat failed'));
  }, HEARTBEAT_MS);
  const housekeeping = setInterval(() => work.housekeeping(), HOUSEKEEPING_MS);
  heartbeat.unref();
  housekeeping.unref();
  const timers = [heartbeat, housekeeping];
  if (refreshShared) {
    const refresh = setInterval(() => {
      refreshShared().catch((error: unknown) =>
        log.warn({ err: error }, 'could not read the shared funds and spend'),
      );
    }, SHARED_REFRESH_MS);
    refresh.unref();
    timers.push(refresh);
  }
  return timers;
}
