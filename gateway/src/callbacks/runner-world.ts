/**
 * The runner, the scheduler and the service around a given store, for the
 * runner's tests (`runner.test.ts` on SQLite with a store that answers late,
 * `runner.postgres.test.ts` on a real PostgreSQL behind a cutting proxy).
 * The attempt itself is a fake: no trunk, so the dial fails at once; `dials`
 * counts the attempts that reached the dial.
 */
import { callbacks as callbacksSchema } from '../config/callbacks.js';
import { createLogger } from '../observability/index.js';
import type { CallbackCallDeps } from './call/callback-call.js';
import type { CallbackDestinations } from './destinations.js';
import { CallbackFees } from './fee.js';
import { CallbackProgress } from './progress.js';
import { CallbackRunner } from './runner.js';
import { CallbackScheduler } from './scheduler.js';
import { CallbackService } from './service.js';
import type { CallbackStore } from './store.js';

export function runnerWorld(store: CallbackStore) {
  const dials: string[] = [];
  const logger = createLogger('silent');
  const config = callbacksSchema.parse({});
  const fees = new CallbackFees({ store, billing: undefined, now: Date.now });
  const progress = new CallbackProgress();
  const call = {
    media: { createRouter: () => ({ on: () => undefined, close: () => undefined }) },
    trunks: {
      outboundTrunk: (tenant: string) => void dials.push(tenant),
      trunk: () => undefined,
    },
    logger,
    config,
    now: Date.now,
  } as unknown as CallbackCallDeps;
  const writeFailures: number[] = [];
  const runner = new CallbackRunner({
    store,
    fees,
    call,
    config,
    progress,
    logger,
    now: Date.now,
    writeRetryMs: 1,
    onWriteFailed: () => writeFailures.push(1),
  });
  const scheduler = new CallbackScheduler({
    maxConcurrent: 1,
    now: Date.now,
    freeAgents: () => 0,
    onAgentChange: () => () => undefined,
    run: () => Promise.resolve(),
    expire: () => undefined,
  });
  const service = new CallbackService({
    config,
    store,
    destinations: {} as CallbackDestinations,
    fees,
    progress,
    runner,
    scheduler,
    logger,
    now: Date.now,
  });
  return { service, runner, dials, writeFailures };
}
