/**
 * mediasoup workers, one per core the gateway is given: each is a C++ process
 * with its own event loop, so calls spread over them scale across cores while
 * the gateway's Node thread only signals. Each worker has one WebRtcServer:
 * every browser leg on that worker shares its single UDP port (ICE demultiplexes
 * by username fragment), instead of a port per call.
 *
 * A worker that dies is replaced at once (same index, same WebRtcServer port,
 * which its death freed); its calls are told through the `died` event of the
 * {@link PooledWorker} they were placed on, so they end with a reason.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type * as mediasoupModule from 'mediasoup';
import type { types } from 'mediasoup';
import { ParleyError } from '@parley/shared/errors';
import { WorkerRouters } from './worker-routers.js';

type Mediasoup = typeof mediasoupModule;

export type WorkerLogLevel = 'debug' | 'warn' | 'error' | 'none';

export interface WorkerPoolOptions {
  readonly mediasoup: Mediasoup;
  readonly count: number;
  /** Address the WebRtcServers bind to. */
  readonly address: string;
  readonly announcedAddress?: string | undefined;
  /** The WebRtcServers' UDP ports come from this range (one per worker). */
  readonly webrtcPortMin: number;
  readonly webrtcPortMax: number;
  readonly logLevel: WorkerLogLevel;
  readonly logger: Logger;
}

export interface PooledWorkerEvents {
  /** The worker process died: everything on it is gone. */
  died: [Error];
}

/** A live worker, its WebRtcServer, its routers (shared by its calls) and how many calls it carries. */
export class PooledWorker extends EventEmitter<PooledWorkerEvents> {
  readonly index: number;
  readonly worker: types.Worker;
  readonly webRtcServer: types.WebRtcServer;
  readonly port: number;
  readonly routers: WorkerRouters;
  /** Calls with media on this worker (call-routers.ts). */
  calls = 0;
  dead = false;

  constructor(index: number, worker: types.Worker, server: types.WebRtcServer, port: number) {
    super();
    this.index = index;
    this.worker = worker;
    this.webRtcServer = server;
    this.port = port;
    this.routers = new WorkerRouters(worker);
  }
}

/**
 * The WebRtcServer's one UDP socket carries every browser of its worker (50
 * packets/s each way per call): with the kernel's default 208 kB, a worker
 * held off its core for a moment overflows it. 4 MiB (about 0.8 s of 500
 * calls) rides that out; the kernel caps it at net.core.rmem_max/wmem_max.
 */
const WEBRTC_SOCKET_BUFFER = 4 * 1024 * 1024;

/** How long to wait before trying again to start a worker that failed to start. */
const RESPAWN_RETRY_MS = 1000;

export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #log: Logger;
  readonly #slots: (PooledWorker | undefined)[];
  #closed = false;
  /** Workers that died since the start, for logs and /metrics. */
  deaths = 0;

  constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.count) || options.count < 1) {
      throw new ParleyError('invalid_config', `mediasoup workers must be ≥ 1 (${options.count})`);
    }
    this.#options = options;
    this.#log = options.logger;
    this.#slots = Array.from({ length: options.count }, () => undefined);
  }

  /** Starts every worker; rejects (with the workers started so far closed) if one cannot start. */
  async start(): Promise<void> {
    try {
      await Promise.all(this.#slots.map((_, index) => this.#spawn(index)));
    } catch (error) {
      this.close();
      throw error;
    }
  }

  get workers(): readonly PooledWorker[] {
    return this.#slots.filter((w): w is PooledWorker => w !== undefined && !w.dead);
  }

  /** The live worker carrying the fewest calls. */
  pick(): PooledWorker {
    let best: PooledWorker | undefined;
    for (const worker of this.#slots) {
      if (!worker || worker.dead) continue;
      if (!best || worker.calls < best.calls) best = worker;
    }
    if (!best) throw new ParleyError('internal', 'no mediasoup worker is running');
    return best;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const worker of this.#slots) worker?.worker.close();
  }

  async #spawn(index: number): Promise<PooledWorker> {
    const { mediasoup, logLevel } = this.#options;
    const worker = await mediasoup.createWorker({
      logLevel,
      logTags: ['ice', 'dtls', 'sctp'],
    });
    let server: { server: types.WebRtcServer; port: number };
    try {
      server = await this.#webRtcServer(worker, index);
    } catch (error) {
      worker.close();
      throw error;
    }
    const pooled = new PooledWorker(index, worker, server.server, server.port);
    worker.on('died', (error) => this.#died(pooled, error));
    if (this.#closed) {
      worker.close();
      return pooled;
    }
    this.#slots[index] = pooled;
    this.#log.info(
      { worker: index, pid: worker.pid, webrtcPort: server.port },
      'mediasoup worker up',
    );
    return pooled;
  }

  /**
   * The worker's WebRtcServer on the first free port of its share of the range
   * (ports index, index + count, …), so workers never race for the same port.
   */
  async #webRtcServer(
    worker: types.Worker,
    index: number,
  ): Promise<{ server: types.WebRtcServer; port: number }> {
    const { address, announcedAddress, webrtcPortMin, webrtcPortMax, count } = this.#options;
    let lastError: unknown;
    for (let port = webrtcPortMin + index; port <= webrtcPortMax; port += count) {
      try {
        const server = await worker.createWebRtcServer({
          listenInfos: [
            {
              protocol: 'udp',
              ip: address,
              ...(announcedAddress ? { announcedAddress } : {}),
              port,
              recvBufferSize: WEBRTC_SOCKET_BUFFER,
              sendBufferSize: WEBRTC_SOCKET_BUFFER,
            },
          ],
        });
        return { server, port };
      } catch (error) {
        lastError = error; // busy: another process holds it
      }
    }
    throw new ParleyError(
      'media_ports_exhausted',
      `no free UDP port for mediasoup worker ${index}'s WebRTC server in ${webrtcPortMin}-${webrtcPortMax}: ${(lastError as Error | undefined)?.message ?? 'range too small'}`,
    );
  }

  #died(pooled: PooledWorker, error: Error): void {
    if (pooled.dead) return;
    pooled.dead = true;
    this.deaths += 1;
    if (this.#closed) return;
    this.#log.error(
      { err: error, worker: pooled.index, pid: pooled.worker.pid, calls: pooled.calls },
      'mediasoup worker died: its calls end, a new worker takes its place',
    );
    try {
      pooled.emit('died', error);
    } catch (listenerError) {
      this.#log.error({ err: listenerError }, 'a mediasoup worker death listener threw');
    }
    void this.#respawn(pooled.index);
  }

  async #respawn(index: number): Promise<void> {
    while (!this.#closed) {
      try {
        await this.#spawn(index);
        return;
      } catch (error) {
        this.#log.error({ err: error, worker: index }, 'mediasoup worker could not be restarted');
        await new Promise((resolve) => setTimeout(resolve, RESPAWN_RETRY_MS).unref());
      }
    }
  }
}
