/**
 * A call's router in the relay engine: owns the call's plain transports, joins
 * them with pipe(), and watches them for silence. Closing it closes its
 * transports (freeing their ports) and emits `close` once.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ParleyError } from '@parley/shared/errors';
import { DATA_CHANNEL_LABEL } from '@parley/shared/protocol';
import type {
  MediaEndpoint,
  MediaEndpointOptions,
  MediaRouter,
  MediaRouterEvents,
  MediaRouterOptions,
  MediaTransport,
} from './engine.js';
import type { PortAllocator } from './port-allocator.js';
import { RelayTransport } from './relay-transport.js';
import type { WeriftTransport } from './webrtc-transport.js';
import type { WebRtcPortPool } from './webrtc-ports.js';

export interface RelayRouterOptions extends MediaRouterOptions {
  readonly allocator: PortAllocator;
  readonly localAddress: string;
  readonly now: () => number;
  readonly latchGuardMs: number;
  readonly logger: Logger;
  readonly webrtc: {
    readonly address: string;
    readonly announcedAddress: string | undefined;
    readonly ports: WebRtcPortPool;
  };
  /** Called once when the router closes, so its engine forgets it. */
  readonly onClose: (router: RelayRouter) => void;
}

/** How often silence is checked: a quarter of the timeout, between 20 ms and 1 s. */
function checkIntervalMs(timeoutMs: number): number {
  return Math.min(1000, Math.max(20, Math.floor(timeoutMs / 4)));
}

export class RelayRouter extends EventEmitter<MediaRouterEvents> implements MediaRouter {
  readonly id = randomUUID();
  readonly callId: string;
  readonly #options: RelayRouterOptions;
  readonly #logger: Logger;
  readonly #transports = new Set<RelayTransport>();
  readonly #webrtc = new Set<WeriftTransport>();
  readonly #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: RelayRouterOptions) {
    super();
    this.callId = options.callId;
    this.#options = options;
    this.#logger = options.logger.child({ callId: options.callId, routerId: this.id });
    const timeout = options.inactivityTimeoutMs;
    if (timeout > 0) {
      // unref: a silent call must not keep the process alive on its own.
      this.#timer = setInterval(() => this.#checkInactivity(), checkIntervalMs(timeout)).unref();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Live transports (for dumps and leak checks). */
  get transports(): ReadonlySet<RelayTransport> {
    return this.#transports;
  }

  async createPlainTransport(options: { readonly name: string }): Promise<RelayTransport> {
    if (this.#closed) throw new ParleyError('internal', 'media router is closed');
    const ports = await this.#options.allocator.allocate();
    if (this.#closed) {
      // Closed while the ports were being bound.
      ports.release();
      throw new ParleyError('internal', 'media router is closed');
    }
    const transport = new RelayTransport({
      name: options.name,
      ports,
      localAddress: this.#options.localAddress,
      now: this.#options.now,
      latchGuardMs: this.#options.latchGuardMs,
      logger: this.#logger,
      onClose: (t) => this.#transports.delete(t),
    });
    this.#transports.add(transport);
    return transport;
  }

  async createWebRtcTransport(options: { readonly name: string }): Promise<WeriftTransport> {
    if (this.#closed) throw new ParleyError('internal', 'media router is closed');
    // werift is loaded on first use: a gateway whose browsers never reach this
    // engine (the mediasoup engine relays only SIP legs here) saves its ~33 MB.
    const { WeriftTransport } = await import('./webrtc-transport.js');
    if (this.#closed) throw new ParleyError('internal', 'media router is closed');
    const transport = new WeriftTransport({
      name: options.name,
      address: this.#options.webrtc.address,
      announcedAddress: this.#options.webrtc.announcedAddress,
      ports: this.#options.webrtc.ports,
      dataChannelLabel: DATA_CHANNEL_LABEL,
      logger: this.#logger,
      now: this.#options.now,
      onClose: (t) => this.#webrtc.delete(t),
    });
    this.#webrtc.add(transport);
    return transport;
  }

  pipe(a: MediaTransport, b: MediaTransport): void {
    if (this.#closed) throw new ParleyError('internal', 'media router is closed');
    if (a.kind === 'webrtc' && b.kind === 'webrtc') {
      const left = this.#ownWebRtc(a);
      const right = this.#ownWebRtc(b);
      if (left === right) throw new ParleyError('internal', 'cannot pipe a transport to itself');
      left.forward = right.input;
      right.forward = left.input;
      this.#logger.debug({ a: left.id, b: right.id }, 'media transports piped');
      return;
    }
    if (a.kind === 'webrtc' || b.kind === 'webrtc') {
      const [web, plain] = a.kind === 'webrtc' ? [a, b] : [b, a];
      const browser = this.#ownWebRtc(web);
      const relay = this.#own(plain);
      browser.forward = relay.rtp;
      relay.rtp.peer = browser.input;
      // RTCP is terminated on each side: werift makes its own reports for the browser.
      relay.rtcp.peer = undefined;
      this.#logger.debug({ webrtc: browser.id, plain: relay.id }, 'media transports piped');
      return;
    }
    const left = this.#own(a);
    const right = this.#own(b);
    if (left === right) throw new ParleyError('internal', 'cannot pipe a transport to itself');
    left.pipeTo(right);
    this.#logger.debug({ a: left.id, b: right.id }, 'media transports piped');
  }

  openEndpoint(transport: MediaTransport, options: MediaEndpointOptions): Promise<MediaEndpoint> {
    try {
      if (this.#closed) throw new ParleyError('internal', 'media router is closed');
      const endpoint =
        transport.kind === 'webrtc'
          ? this.#ownWebRtc(transport).openEndpoint(options)
          : this.#own(transport).openEndpoint(options);
      return Promise.resolve(endpoint);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const transport of [...this.#transports]) transport.close();
    for (const transport of [...this.#webrtc]) transport.close();
    this.#logger.debug('media router closed');
    this.#options.onClose(this);
    this.#safeEmit('close');
  }

  #ownWebRtc(transport: MediaTransport): WeriftTransport {
    if (
      transport.kind !== 'webrtc' ||
      transport.closed ||
      !this.#webrtc.has(transport as WeriftTransport)
    ) {
      throw new ParleyError('internal', `transport ${transport.id} is not open on this router`);
    }
    return transport as WeriftTransport;
  }

  #own(transport: MediaTransport): RelayTransport {
    if (
      !(transport instanceof RelayTransport) ||
      transport.closed ||
      !this.#transports.has(transport)
    ) {
      throw new ParleyError('internal', `transport ${transport.id} is not open on this router`);
    }
    return transport;
  }

  #checkInactivity(): void {
    const timeout = this.#options.inactivityTimeoutMs;
    const now = this.#options.now();
    for (const transport of [...this.#transports, ...this.#webrtc]) {
      if (this.#closed) return; // a listener closed the router
      const counters = transport.counters;
      // Only once media has started on this transport, and once per silence period.
      if (counters.lastRtpAt === undefined || counters.silent) continue;
      const silentForMs = now - counters.lastRtpAt;
      if (silentForMs < timeout) continue;
      counters.silent = true;
      this.#logger.info({ transportId: transport.id, silentForMs }, 'media inactive');
      this.#safeEmit('inactive', { transportId: transport.id, silentForMs });
    }
  }

  /** A throwing listener is logged, never allowed to break the router or crash a timer. */
  #safeEmit<K extends keyof MediaRouterEvents>(event: K, ...args: MediaRouterEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: MediaRouterEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.#logger.error({ err: error, event }, 'media router listener threw');
    }
  }
}
