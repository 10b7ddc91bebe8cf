/**
 * Where the media engine comes from: the built-in relay (plain RTP, and werift
 * for browsers), or an ES module the config names, so an engine on another
 * stack (mediasoup, where its worker installs) plugs in without touching the
 * gateway. The module exports `createMediaEngine(options)`.
 */
import { pathToFileURL } from 'node:url';
import { ParleyError } from '@parley/shared/errors';
import type { Logger } from '../observability/index.js';
import type { MediaEngine } from './engine.js';
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
  readonly logger: Logger;
}

/** The export an engine module provides. */
export type MediaEngineFactory = (
  options: MediaEngineOptions,
) => MediaEngine | Promise<MediaEngine>;

export async function createMediaEngine(
  engine: 'relay' | { readonly module: string },
  options: MediaEngineOptions,
): Promise<MediaEngine> {
  if (engine === 'relay') return createRelayEngine(options);
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
