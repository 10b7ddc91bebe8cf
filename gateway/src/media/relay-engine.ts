/**
 * The default media engine: anchors plain RTP/RTCP on the gateway and relays
 * it unchanged between a call's legs (no transcoding: what the ends negotiated
 * passes through), and terminates browsers' WebRTC with werift.
 *
 * Tree: RelayEngine → RelayRouter (one per call) → RelayTransport (one per leg),
 * ports from one {@link PortAllocator} per engine. See engine.ts for the seam.
 */
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { ParleyError } from '@parley/shared/errors';
import type { MediaEngine, MediaRouterOptions } from './engine.js';
import { createPortAllocator } from './port-allocator.js';
import { RelayRouter } from './relay-router.js';
import { createWebRtcPortPool } from './webrtc-ports.js';

export interface RelayEngineOptions {
  /** Address the RTP/RTCP sockets bind to (and announce, unless `announcedAddress`). */
  readonly address: string;
  /** Address put in SDP when it differs from the bound one (e.g. behind 1:1 NAT). */
  readonly announcedAddress?: string;
  /** RTP port range, inclusive; RTP on even ports, RTCP on the next odd one. */
  readonly portMin: number;
  readonly portMax: number;
  readonly logger: Logger;
  /** Clock (epoch ms), for tests. */
  readonly now?: () => number;
  /**
   * How long a latched media source must be silent before another source may
   * take over (hijack guard). Default 1000 ms.
   */
  readonly latchGuardMs?: number;
  /** UDP ports werift's ICE binds browsers' media to (one per call), inclusive. */
  readonly webrtcPortMin?: number;
  readonly webrtcPortMax?: number;
}

export interface RelayEngine extends MediaEngine {
  readonly kind: 'relay';
  createRouter(options: MediaRouterOptions): RelayRouter;
  /** Port pairs in use and available, for /metrics. */
  readonly ports: { readonly inUse: number; readonly capacity: number };
}

export function createRelayEngine(options: RelayEngineOptions): RelayEngine {
  if (isIP(options.address) === 0) {
    throw new ParleyError(
      'invalid_config',
      `media address is not an IP literal: ${options.address}`,
    );
  }
  if (options.announcedAddress !== undefined && isIP(options.announcedAddress) === 0) {
    throw new ParleyError(
      'invalid_config',
      `announced media address is not an IP literal: ${options.announcedAddress}`,
    );
  }
  const allocator = createPortAllocator({
    address: options.address,
    min: options.portMin,
    max: options.portMax,
  });
  const logger = options.logger.child({ module: 'media', engine: 'relay' });
  const now = options.now ?? Date.now;
  const latchGuardMs = options.latchGuardMs ?? 1000;
  const localAddress = options.announcedAddress ?? options.address;
  const webrtcPorts = createWebRtcPortPool({
    address: options.address,
    min: options.webrtcPortMin ?? 40000,
    max: options.webrtcPortMax ?? 40999,
  });
  const routers = new Set<RelayRouter>();
  let closed: Promise<void> | undefined;

  return {
    kind: 'relay',
    get routerCount() {
      return routers.size;
    },
    get ports() {
      return { inUse: allocator.inUse, capacity: allocator.capacity };
    },
    createRouter(routerOptions) {
      if (closed) throw new ParleyError('internal', 'media engine is closed');
      const router = new RelayRouter({
        callId: routerOptions.callId,
        inactivityTimeoutMs: routerOptions.inactivityTimeoutMs,
        allocator,
        localAddress,
        now,
        latchGuardMs,
        logger,
        webrtc: {
          address: options.address,
          announcedAddress: options.announcedAddress,
          ports: webrtcPorts,
        },
        onClose: (r) => routers.delete(r),
      });
      routers.add(router);
      return router;
    },
    close() {
      closed ??= (async () => {
        for (const router of [...routers]) router.close();
        await allocator.drain();
        logger.debug('media engine closed');
      })();
      return closed;
    },
  };
}
