/**
 * The callbacks' scheduler wired to their service and runner, as
 * `module.ts` builds it (and the runner's tests, `runner-world.ts`, through
 * the same function): its runs are the service's, its expiries the
 * service's `expire`, tried again while the store fails (never lost), and a
 * run begun that the runner still owes (`CallbackRunner.owes`) is run again
 * without a new wait.
 */
import type { Logger } from '../observability/index.js';
import type { CallbackRunner } from './runner.js';
import { CallbackScheduler } from './scheduler.js';
import type { CallbackService } from './service.js';

export interface CallbackSchedulingDeps {
  readonly maxConcurrent: number;
  readonly now: () => number;
  readonly freeAgents: (queue: string) => number;
  readonly onAgentChange: (listener: () => void) => () => void;
  /** The service (built after the scheduler); none: nothing is run nor expired. */
  readonly service: () => CallbackService | undefined;
  readonly runner: CallbackRunner;
  readonly logger: Logger;
  /** A run or an expiry that failed (the store unreachable): tried again later. */
  readonly onStoreFailure?: ((step: 'run' | 'expire') => void) | undefined;
  /** Tests: the wait before a failed run or expiry is tried again (default 1 s, doubling to 60 s). */
  readonly retryDelayMs?: ((failures: number) => number) | undefined;
  /** Tests: each run and expiry as it starts. */
  readonly onStart?: ((step: 'run' | 'expire', id: string) => void) | undefined;
}

export function callbackScheduler(deps: CallbackSchedulingDeps): CallbackScheduler {
  const { logger } = deps;
  return new CallbackScheduler({
    maxConcurrent: deps.maxConcurrent,
    now: deps.now,
    freeAgents: deps.freeAgents,
    onAgentChange: deps.onAgentChange,
    run: async (id) => {
      const service = deps.service();
      if (!service) return;
      deps.onStart?.('run', id);
      await service.run(id);
    },
    expire: async (id, again) => {
      const service = deps.service();
      if (!service) return;
      deps.onStart?.('expire', id);
      await service.expire(id, again);
    },
    owes: (id) => deps.runner.owes(id),
    retryDelayMs: deps.retryDelayMs,
    onRunFailed: (id, err, failures) => {
      deps.onStoreFailure?.('run');
      logger.error({ err, callback: id, failures }, 'callback run failed: tried again later');
    },
    onExpireFailed: (id, err, failures) => {
      deps.onStoreFailure?.('expire');
      logger.error({ err, callback: id, failures }, 'callback not expired: tried again later');
    },
  });
}
