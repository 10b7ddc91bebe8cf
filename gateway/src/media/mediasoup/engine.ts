/**
 * The mediasoup media engine: browsers' legs (ICE-lite, DTLS-SRTP, SCTP) and
 * the SIP legs piped to them run in mediasoup's C++ workers, one per core the
 * gateway is given; Node only signals. Calls between two SIP legs stay on the
 * built-in relay (see plain-transport.ts for why).
 *
 * Tree: MediasoupEngine → MsRouter (one per call) → MsWebRtcTransport /
 * MsPlainTransport (one per leg), as engine.ts describes; workers in a
 * {@link WorkerPool}. An MsRouter is the call's, not a mediasoup router: the
 * calls of a worker share its mediasoup routers (worker-routers.ts), and
 * `routerCount` counts the calls' MsRouters.
 */
import { availableParallelism } from 'node:os';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { ParleyError } from '@parley/shared/errors';
import type { MediaEngine, MediaRouterOptions } from '../engine.js';
import { createPortAllocator } from '../port-allocator.js';
import { MEDIASOUP_VERSION, findWorkerBin, loadMediasoup } from './load.js';
import { probeWorker } from './probe.js';
import { MsRouter } from './router.js';
import { WorkerPool, type WorkerLogLevel } from './worker-pool.js';

export interface MediasoupEngineOptions {
  /** Address media binds to (and announces, unless `announcedAddress`). */
  readonly address: string;
  readonly announcedAddress?: string | undefined;
  /** Plain RTP port pairs (SIP legs). */
  readonly portMin: number;
  readonly portMax: number;
  /** The workers' WebRTC servers take one UDP port each from this range. */
  readonly webrtcPortMin: number;
  readonly webrtcPortMax: number;
  /** Workers to run; default the cores this process may use. */
  readonly workers?: number | undefined;
  /** The worker binary; default as {@link findWorkerBin}. */
  readonly workerBin?: string | undefined;
  readonly logLevel?: WorkerLogLevel | undefined;
  /** Longest interval between reads of the worker's packet counters. Default 5000. */
  readonly statsIntervalMs?: number | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Latch guard of the relayed plain legs (ms). Default 1000. */
  readonly latchGuardMs?: number;
}

export interface MediasoupEngine extends MediaEngine {
  readonly kind: 'mediasoup';
  createRouter(options: MediaRouterOptions): MsRouter;
  /** Port pairs in use and available, for /metrics. */
  readonly ports: { readonly inUse: number; readonly capacity: number };
  /** Live workers and how many died since the start. */
  readonly workers: { readonly running: number; readonly deaths: number };
  /** @internal The pool, for tests that kill a worker. */
  readonly pool: WorkerPool;
}

export async function createMediasoupEngine(
  options: MediasoupEngineOptions,
): Promise<MediasoupEngine> {
  for (const [what, value] of [
    ['media address', options.address],
    ['announced media address', options.announcedAddress],
  ] as const) {
    if (value !== undefined && isIP(value) === 0) {
      throw new ParleyError('invalid_config', `${what} is not an IP literal: ${value}`);
    }
  }
  const workerBin = findWorkerBin(options.workerBin);
  if (!workerBin) {
    throw new ParleyError(
      'invalid_config',
      `no mediasoup ${MEDIASOUP_VERSION} worker found (media.mediasoup.workerBin, MEDIASOUP_WORKER_BIN, or node_modules/mediasoup/worker/out/Release): run ./scripts/setup.sh`,
    );
  }
  const logger = options.logger.child({ module: 'media', engine: 'mediasoup' });
  const refused = (what: string, error: unknown): ParleyError =>
    new ParleyError('invalid_config', `${what}: ${(error as Error).message}`, { cause: error });
  const mediasoup = await loadMediasoup(workerBin).catch((error: unknown) => {
    throw refused('mediasoup could not be loaded', error);
  });
  const allocator = createPortAllocator({
    address: options.address,
    min: options.portMin,
    max: options.portMax,
  });
  const pool = new WorkerPool({
    mediasoup,
    count: options.workers ?? availableParallelism(),
    address: options.address,
    announcedAddress: options.announcedAddress,
    webrtcPortMin: options.webrtcPortMin,
    webrtcPortMax: options.webrtcPortMax,
    logLevel: options.logLevel ?? 'error',
    logger,
  });
  await pool.start().catch((error: unknown) => {
    throw refused(`the mediasoup worker ${workerBin} did not start`, error);
  });
  const first = pool.workers[0];
  const missing = first ? await probeWorker(first.worker) : ['a running worker'];
  if (missing.length > 0) {
    pool.close();
    throw new ParleyError(
      'invalid_config',
      `the mediasoup worker ${workerBin} lacks what SIP legs need: ${missing.join('; ')}. Build it with ./scripts/mediasoup-worker-build.sh (./scripts/setup.sh does)`,
    );
  }
  logger.info(
    { workerBin, workers: pool.workers.length, version: mediasoup.version },
    'mediasoup engine started',
  );

  const now = options.now ?? Date.now;
  const localAddress = options.announcedAddress ?? options.address;
  const routers = new Set<MsRouter>();
  let closed: Promise<void> | undefined;

  return {
    kind: 'mediasoup',
    pool,
    get routerCount() {
      return routers.size;
    },
    get ports() {
      return { inUse: allocator.inUse, capacity: allocator.capacity };
    },
    get workers() {
      return { running: pool.workers.length, deaths: pool.deaths };
    },
    createRouter(routerOptions) {
      if (closed) throw new ParleyError('internal', 'media engine is closed');
      const router = new MsRouter({
        ...routerOptions,
        pool,
        allocator,
        address: options.address,
        localAddress,
        now,
        latchGuardMs: options.latchGuardMs ?? 1000,
        statsIntervalMs: options.statsIntervalMs ?? 5000,
        logger,
        onClose: (r) => routers.delete(r),
      });
      routers.add(router);
      return router;
    },
    close() {
      closed ??= (async () => {
        for (const router of [...routers]) router.close();
        pool.close();
        await allocator.drain();
        logger.debug('media engine closed');
      })();
      return closed;
    },
  };
}
