import type { CallManager } from '../calls/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { reasonHeader } from '../sbc/refusal.js';
import type { SipStack } from '../sip/index.js';

/**
 * Takes no new calls and waits for the calls in progress to finish, at most
 * `timeoutMs` (SIGTERM, docs/scaling.md): OPTIONS are answered 503 (a
 * proxy's probing takes the gateway out of its set) and new INVITEs are
 * refused 503 `gateway_shutdown`. The caller closes the gateway after, which
 * ends the rest with `gateway_shutdown`.
 */
export async function drainCalls(
  deps: {
    readonly stack: SipStack;
    readonly calls: CallManager;
    readonly metrics: Metrics;
    readonly logger: Logger;
  },
  timeoutMs: number,
): Promise<void> {
  const { calls, metrics, logger } = deps;
  metrics.draining.set(1);
  deps.stack.drain([reasonHeader('gateway_shutdown'), ['Retry-After', '10']]);
  calls.refuseNew();
  const inProgress = calls.size;
  logger.info({ calls: inProgress, timeoutMs }, 'draining: no new calls');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  const late = await Promise.race([calls.idle().then(() => false), timedOut]);
  clearTimeout(timer);
  const cut = calls.size;
  const finished = Math.max(0, inProgress - cut);
  metrics.drainedCalls.inc({ result: 'finished' }, finished);
  if (cut > 0) metrics.drainedCalls.inc({ result: 'cut' }, cut);
  logger.info({ finished, cut, timedOut: late }, 'drained: closing');
}
