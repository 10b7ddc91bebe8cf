/**
 * The runner, the scheduler and the service around a given store, for the
 * runner's tests (`runner.test.ts` on SQLite with a store that answers late,
 * `runner.postgres.test.ts` on a real PostgreSQL behind a cutting proxy).
 * The attempt itself is a fake: no trunk, so the dial fails at once; `dials`
 * counts the attempts that reached the dial. With `scheduling`, the
 * scheduler is `module.ts`'s own wiring (`scheduling.ts`: its runs and
 * expiries are the service's, `events` tells each it starts,
 * `storeFailures` each that failed); else it runs nothing.
 */
import { callbacks as callbacksSchema } from '../config/callbacks.js';
import { createLogger } from '../observability/index.js';
import type { CallbackCallDeps } from './call/callback-call.js';
import type { CallbackDestinations } from './destinations.js';
import { CallbackFees } from './fee.js';
import { CallbackProgress } from './progress.js';
import { CallbackRunner } from './runner.js';
import { callbackScheduler } from './scheduling.js';
import { CallbackService } from './service.js';
import type { CallbackStore } from './store.js';

export interface Scheduling {
  /** Free agents of every queue now. */
  readonly freeAgents: () => number;
  /** After a rejected run. */
  readonly retryDelayMs: number;
}

export function runnerWorld(store: CallbackStore, scheduling?: Scheduling) {
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
  const ref: { service?: CallbackService } = {};
  const events: string[] = [];
  const storeFailures: string[] = [];
  const scheduler = callbackScheduler({
    maxConcurrent: 1,
    now: Date.now,
    freeAgents: scheduling?.freeAgents ?? (() => 0),
    onAgentChange: () => () => undefined,
    service: () => (scheduling ? ref.service : undefined),
    runner,
    logger,
    onStoreFailure: (step) => storeFailures.push(step),
    retryDelayMs: () => scheduling?.retryDelayMs ?? 1000,
    onStart: (step, id) => events.push(`${step} ${id}`),
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
  ref.service = service;
  return { service, runner, scheduler, progress, events, dials, writeFailures, storeFailures };
}
