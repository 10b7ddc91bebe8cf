/**
 * Where the media engine comes from: mediasoup (its C++ workers, the default
 * wherever a worker fit for SIP legs is installed), the built-in relay (plain
 * RTP, and werift for browsers), or an ES module the config names, so another
 * engine plugs in without touching the gateway. The module exports
 * `createMediaEngine(options)`.
 */
import { pathToFileURL } from 'node:url';
import { ParleyError } from '@parley/shared/errors';
import type { Logger } from '../observability/index.js';
import type { MediaEngine } from './engine.js';
import { createMediasoupEngine } from './mediasoup/engine.js';
import { findWorkerBin } from './mediasoup/load.js';
import type { WorkerLogLevel } from './mediasoup/worker-pool.js';
import { createRelayEngine } from './relay-engine.js';

/** What an engine is given: the `media` section of the config, and a logger. */
export interface MediaEngineOptions {
  /** Address media sockets bind to. */
  readonly address: string;
  /** Address put in SDP and ICE candidates, when not `address` (NAT). */
  readonly announcedAddress?: string | undefined;
  /** Plain RTP port range (even RTP ports, RTCP on the next). */
  readonly portMin: number;
  readonly portMax: number;
  /** UDP ports for browsers' WebRTC. */
  readonly webrtcPortMin: number;
  readonly webrtcPortMax: number;
  /** The mediasoup engine's settings (`media.mediasoup`). */
  readonly mediasoup?: {
    readonly workers?: number | undefined;
    readonly workerBin?: string | undefined;
    readonly logLevel?: WorkerLogLevel | undefined;
    readonly statsIntervalMs?: number | undefined;
  };
  readonly logger: Logger;
}

/** `auto`: mediasoup where its worker is installed, else the relay. */
export type MediaEngineChoice = 'auto' | 'mediasoup' | 'relay' | { readonly module: string };

/** The export an engine module provides. */
export type MediaEngineFactory = (
  options: MediaEngineOptions,
) => MediaEngine | Promise<MediaEngine>;

export async function createMediaEngine(
  engine: MediaEngineChoice,
  options: MediaEngineOptions,
): Promise<MediaEngine> {
  if (engine === 'relay') return createRelayEngine(options);
  if (engine === 'mediasoup') return createMediasoupEngine({ ...options, ...options.mediasoup });
  if (engine === 'auto') return autoEngine(options);
  const where = `media.engine.module ${engine.module}`;
  let loaded: { createMediaEngine?: unknown };
  try {
    loaded = (await import(pathToFileURL(engine.module).href)) as { createMediaEngine?: unknown };
  } catch (error) {
    throw new ParleyError('invalid_config', `${where}: cannot load: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (typeof loaded.createMediaEngine !== 'function') {
    throw new ParleyError('invalid_config', `${where}: exports no createMediaEngine(options)`);
  }
  const created: unknown = await (loaded.createMediaEngine as MediaEngineFactory)(options);
  const candidate = created as Partial<MediaEngine> | undefined;
  if (
    !candidate ||
    typeof candidate.kind !== 'string' ||
    typeof candidate.createRouter !== 'function' ||
    typeof candidate.close !== 'function'
  ) {
    throw new ParleyError(
      'invalid_config',
      `${where}: createMediaEngine() must return a MediaEngine { kind, createRouter(), routerCount, close() }`,
    );
  }
  options.logger.info({ engine: candidate.kind, module: engine.module }, 'media engine loaded');
  return candidate as MediaEngine;
}

/**
 * mediasoup when a worker is installed and fit for SIP legs (Parley's build),
 * else the relay, saying why: a gateway without the worker still starts.
 */
async function autoEngine(options: MediaEngineOptions): Promise<MediaEngine> {
  const log = options.logger.child({ module: 'media' });
  if (!findWorkerBin(options.mediasoup?.workerBin)) {
    log.info(
      'no mediasoup worker installed: media on the relay engine (./scripts/setup.sh builds one)',
    );
    return createRelayEngine(options);
  }
  try {
    return await createMediasoupEngine({ ...options, ...options.mediasoup });
  } catch (error) {
    log.warn({ err: error }, 'the mediasoup engine did not start: media on the relay engine');
    return createRelayEngine(options);
  }
}
