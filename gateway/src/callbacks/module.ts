/**
 * The callbacks module, built from its dependencies (the composition root
 * passes them in): store, destinations, fees, progress, runner, scheduler,
 * service and the `/v1/callbacks` routes. `close()` stops live attempts and
 * the scheduler; safe twice.
 */
import type { Router } from 'express';
import type { Registry } from 'prom-client';
import { reachableContact, type AgentDirectory } from '../agents/index.js';
import { cancelInterrupted, hangUpInterrupted } from '../calls/index.js';
import type { Config } from '../config/index.js';
import type { ApiKeyConfig } from '../http/api-auth.js';
import type { Marketplace } from '../marketplace/index.js';
import type { MediaApps } from '../media/apps/index.js';
import type { MediaEngine } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import type { QueueSettings, ValueService } from '../routing/index.js';
import type { SipStack } from '../sip/index.js';
import type { TextToSpeech } from '../speech/index.js';
import type { SqliteDatabase } from '../storage/index.js';
import type { PgPool } from '../storage/postgres/index.js';
import type { TokenService } from '../tokens/index.js';
import type { Trunks } from '../trunks/index.js';
import { CallbackDestinations } from './destinations.js';
import { CallbackFees } from './fee.js';
import {
  marketplaceBilling,
  marketplaceListings,
  type CallbackBilling,
} from './marketplace-ports.js';
import { CallbackProgress } from './progress.js';
import { CallbackMetrics } from './metrics.js';
import { callbackRoutes } from './routes.js';
import { CallbackRunner, type CallbackDeskFeed } from './runner.js';
import { callbackScheduler } from './scheduling.js';
import { CallbackService } from './service.js';
import { lostCallbacks, type LostCallbacks } from './lost.js';
import { PgCallbackStore } from './pg-store.js';
import { refuseUnmovedCallbacks } from './move.js';
import { SqliteCallbackStore } from './sqlite-store.js';
import type { CallbackStore } from './store.js';

export interface CallbacksModuleDeps {
  readonly config: Config;
  readonly db: SqliteDatabase;
  /** With `storage.kind: postgres`: the callbacks are there, shared by every gateway. */
  readonly pool?: PgPool | undefined;
  /** This gateway in the shared rows (`shared.instanceId`): the owner of the callbacks it asks for. */
  readonly instanceId: string;
  readonly stack: SipStack;
  readonly trunks: Trunks;
  readonly media: MediaEngine;
  readonly mediaApps: MediaApps;
  readonly tts: TextToSpeech;
  readonly agents: AgentDirectory;
  readonly queue: (name: string) => QueueSettings;
  readonly value?: ValueService | undefined;
  readonly marketplace?: Marketplace | undefined;
  /** Overrides the marketplace's ledger (tests). */
  readonly billing?: CallbackBilling | undefined;
  readonly tokens: TokenService;
  readonly apiKeys: readonly ApiKeyConfig[];
  readonly desk?: CallbackDeskFeed | undefined;
  /** Crash tests: runs inside each fee's transaction, before the commit. */
  readonly feeBeforeCommit?: ((callbackId: string) => void) | undefined;
  /** Where the callbacks' metrics go (absent: none kept). */
  readonly registry?: Registry | undefined;
  readonly logger: Logger;
  readonly now: () => number;
}

export interface CallbacksModule {
  readonly service: CallbackService;
  readonly runner: CallbackRunner;
  readonly router: Router;
  /** A lost gateway's callbacks, for the sweeper (PostgreSQL only). */
  readonly lost: LostCallbacks | undefined;
  /** Closes interrupted callbacks (BYE to their legs, CANCEL to ringing INVITEs), charges what is owed, schedules the waiting ones. */
  start(): Promise<void>;
  /** Where the desks are told about callbacks (the desk is wired after this module). */
  setDesk(feed: CallbackDeskFeed | undefined): void;
  close(): void;
}

/** Agents of `queue` that could take a call now (available, reachable, below maxCalls). */
function freeAgents(agents: AgentDirectory, queue: string, now: number): number {
  return agents
    .list()
    .filter(
      (a) =>
        a.queues.includes(queue) &&
        a.state === 'available' &&
        a.activeCalls + a.ringing < a.maxCalls &&
        reachableContact(a.contacts, now) !== undefined,
    ).length;
}

export function createCallbacksModule(deps: CallbacksModuleDeps): CallbacksModule {
  const { config, now, logger } = deps;
  if (deps.pool) refuseUnmovedCallbacks(deps.db);
  const store: CallbackStore = deps.pool
    ? new PgCallbackStore(deps.pool, deps.instanceId)
    : new SqliteCallbackStore(deps.db);
  const billing =
    deps.billing ?? (deps.marketplace ? marketplaceBilling(deps.marketplace) : undefined);
  const fees = new CallbackFees({ store, billing, now, beforeCommit: deps.feeBeforeCommit });
  const progress = new CallbackProgress();
  let desk = deps.desk;
  // The desk is wired after this module: every call goes to the feed set by then.
  const deskFeed: CallbackDeskFeed = {
    progress: (...a) => desk?.progress(...a),
    ringing: (...a) => desk?.ringing(...a),
    stopped: (...a) => desk?.stopped(...a),
    answered: (...a) => desk?.answered(...a),
    ended: (...a) => desk?.ended(...a),
  };
  const metrics = deps.registry ? new CallbackMetrics(deps.registry) : undefined;
  const runner = new CallbackRunner({
    store,
    fees,
    progress,
    config: config.callbacks,
    desk: deskFeed,
    logger,
    now,
    onAttempt: metrics && ((result) => metrics.attempt(result)),
    onTimings: metrics && ((name, seconds) => metrics.timing(name, seconds)),
    onWriteFailed: () => metrics?.storeFailures.inc({ step: 'write' }),
    call: {
      stack: deps.stack,
      trunks: deps.trunks,
      media: deps.media,
      mediaApps: deps.mediaApps,
      tts: deps.tts,
      agents: deps.agents,
      queue: deps.queue,
      value: deps.value,
      logger,
      domain: config.sip.domain,
      config: config.callbacks,
      mediaInactivityMs: config.media.inactivityTimeoutSeconds * 1000,
      now,
    },
  });
  const ref: { service?: CallbackService } = {};
  const scheduler = callbackScheduler({
    maxConcurrent: config.callbacks.maxConcurrent,
    now,
    freeAgents: (queue) => freeAgents(deps.agents, queue, now()),
    onAgentChange: (listener) => {
      deps.agents.on('change', listener);
      return () => deps.agents.off('change', listener);
    },
    service: () => ref.service,
    runner,
    logger,
    onStoreFailure: (step) => metrics?.storeFailures.inc({ step }),
  });
  const service = new CallbackService({
    config: config.callbacks,
    store,
    destinations: new CallbackDestinations(
      config,
      deps.marketplace ? marketplaceListings(deps.marketplace) : undefined,
    ),
    fees,
    progress,
    runner,
    scheduler,
    desk: deskFeed,
    logger,
    now,
  });
  ref.service = service;
  const router = callbackRoutes({ service, tokens: deps.tokens, apiKeys: deps.apiKeys });
  let closed = false;
  const lost = store.shared
    ? lostCallbacks({ rows: store.shared, service, stack: deps.stack, logger })
    : undefined;
  return {
    service,
    runner,
    router,
    lost,
    async start() {
      const closed = await service.start();
      hangUpInterrupted(deps.stack, closed.interrupted, logger);
      cancelInterrupted(deps.stack, closed.ringing, logger);
      // A record not closed (the store failing): the start fails, the closed ones' legs answered.
      if ('error' in closed) throw closed.error;
    },
    setDesk(feed) {
      desk = feed;
    },
    close() {
      if (closed) return;
      closed = true;
      scheduler.close();
      runner.abortAll('shutdown');
    },
  };
}
