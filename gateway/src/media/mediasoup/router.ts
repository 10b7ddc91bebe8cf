/**
 * A call's router in the mediasoup engine. Its legs: browser legs
 * ({@link MsWebRtcTransport}) and plain legs ({@link MsPlainTransport}, relayed
 * in Node until piped to a browser leg). pipe() joins them: two plain legs
 * through the relay, anything with a browser leg through the worker (producer
 * and consumer each way, no transcoding).
 *
 * The call's media goes on one worker (the one with the fewest calls when the
 * call first needs one), so a call between two SIP legs costs the workers
 * nothing, on mediasoup routers the worker's calls share (call-routers.ts,
 * worker-routers.ts): what the call makes on them it closes itself. A
 * consumer sends with its router's payload types, so each leg sits on a
 * router that numbers the codecs as the leg negotiated them: usually one
 * router serves both legs (the gateway offers each side the other's numbers);
 * when an agent answered with numbers of its own (a PBX's telephone-event at
 * 101, say), its leg is on a second router and the two are joined by
 * mediasoup's pipeToRouter (the two routers' pipe transports shared too).
 *
 * Packet counters and the inactivity timer: meter.ts.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { types } from 'mediasoup';
import { ParleyError } from '@parley/shared/errors';
import type {
  MediaEndpoint,
  MediaEndpointOptions,
  MediaRouter,
  MediaRouterEvents,
  MediaRouterOptions,
  MediaTransport,
} from '../engine.js';
import type { PortAllocator } from '../port-allocator.js';
import type { AudioCodec } from '../engine.js';
import { BROWSER_NUMBERING, legCapabilities, numberingOf, numbersAgree } from './codecs.js';
import { DtmfSender } from './dtmf.js';
import { CallEndpoints } from './endpoints.js';
import { CallMeter } from './meter.js';
import { MsPlainTransport } from './plain-transport.js';
import { MsWebRtcTransport } from './webrtc-transport.js';
import { MAX_MESSAGE_SIZE } from './webrtc-sdp.js';
import { CallRouters } from './call-routers.js';
import type { WorkerPool } from './worker-pool.js';

export interface MsRouterOptions extends MediaRouterOptions {
  readonly pool: WorkerPool;
  readonly allocator: PortAllocator;
  /** Address the plain legs bind to. */
  readonly address: string;
  /** Address put in SDP. */
  readonly localAddress: string;
  readonly now: () => number;
  readonly latchGuardMs: number;
  /** How often the worker's counters are read (at most; sooner for a short inactivity timeout). */
  readonly statsIntervalMs: number;
  readonly logger: Logger;
  readonly onClose: (router: MsRouter) => void;
}

export class MsRouter extends EventEmitter<MediaRouterEvents> implements MediaRouter {
  readonly id = randomUUID();
  readonly callId: string;
  readonly #options: MsRouterOptions;
  readonly #log: Logger;
  readonly #plain = new Set<MsPlainTransport>();
  readonly #webrtc = new Set<MsWebRtcTransport>();
  readonly #bridged = new Set<string>();
  readonly #dtmf = new Map<MsWebRtcTransport, DtmfSender>();
  readonly #meter: CallMeter;
  /** Media applications' endpoints on the legs (endpoints.ts). */
  readonly #endpoints: CallEndpoints;
  /** The call's worker, the shared routers it uses and its DirectTransports on them. */
  readonly #routers: CallRouters;
  #closed = false;

  constructor(options: MsRouterOptions) {
    super();
    this.callId = options.callId;
    this.#options = options;
    this.#log = options.logger.child({ callId: options.callId, routerId: this.id });
    this.#routers = new CallRouters(options.pool, this.#onWorkerDied);
    this.#meter = new CallMeter({
      inactivityTimeoutMs: options.inactivityTimeoutMs,
      statsIntervalMs: options.statsIntervalMs,
      now: options.now,
      // A leg closed by a listener meanwhile is skipped or not: Set iteration allows it.
      forEachLeg: (visit) => {
        for (const t of this.#plain) visit(t.id, t.activity);
        for (const t of this.#webrtc) visit(t.id, t.counters);
      },
      onInactive: (event) => {
        this.#log.info(event, 'media inactive');
        this.#safeEmit('inactive', event);
      },
    });
    this.#endpoints = new CallEndpoints({
      direct: (router) => this.#routers.direct(router),
      now: options.now,
      logger: this.#log,
      delivering: (consumer, leg, from) => this.#meter.watch(consumer, leg.counters, from.counters),
      hearing: (tap, leg) => this.#meter.watch(tap, undefined, leg.counters),
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  async createPlainTransport(options: { readonly name: string }): Promise<MsPlainTransport> {
    this.#notClosed();
    const ports = await this.#options.allocator.allocate();
    if (this.#closed) {
      ports.release();
      throw new ParleyError('internal', 'media router is closed');
    }
    const transport = new MsPlainTransport({
      name: options.name,
      ports,
      address: this.#options.address,
      localAddress: this.#options.localAddress,
      now: this.#options.now,
      latchGuardMs: this.#options.latchGuardMs,
      logger: this.#log,
      onClose: (t) => {
        this.#plain.delete(t);
        this.#endpoints.closed(t.id);
      },
    });
    this.#plain.add(transport);
    return transport;
  }

  async createWebRtcTransport(options: { readonly name: string }): Promise<MsWebRtcTransport> {
    this.#notClosed();
    // Made now (while the agent rings), numbered as browsers number codecs, with
    // the data channel's stream: the visitor's 200 then waits for none of it
    // when the browser numbers them so.
    const prepared = this.#webRtcTransport(BROWSER_NUMBERING).then(async (made) => {
      try {
        return { ...made, data: await web.prepareDataChannel(made.transport, made.router) };
      } catch (error) {
        // The router is shared: nobody else would close this transport before its last call ends.
        made.transport.close();
        throw error;
      }
    });
    prepared.catch(() => undefined);
    const web: MsWebRtcTransport = new MsWebRtcTransport({
      name: options.name,
      create: async (codecs) => {
        const made = await prepared.catch(() => undefined);
        if (made && numbersAgree(made.router, numberingOf(codecs))) return made;
        made?.transport.close();
        return this.#webRtcTransport(codecs);
      },
      direct: (router) => this.#routers.direct(router),
      dtmf: () => this.#dtmf.get(web),
      logger: this.#log,
      onClose: (t) => {
        this.#webrtc.delete(t);
        this.#dtmf.delete(t);
        this.#endpoints.closed(t.id);
        // Unused (the leg never negotiated, or took another router): not kept until the call ends.
        void prepared.then(
          (made) => made.transport.close(),
          () => undefined,
        );
      },
    });
    this.#webrtc.add(web);
    return Promise.resolve(web);
  }

  async #webRtcTransport(
    codecs: readonly AudioCodec[],
  ): Promise<{ router: types.Router; transport: types.WebRtcTransport }> {
    this.#notClosed();
    const router = await this.#routers.routerFor(codecs);
    const worker = this.#routers.worker;
    if (!worker) throw new ParleyError('internal', 'media router has no worker');
    // The call's DirectTransport on this router (the data channel's), made meanwhile (once).
    this.#routers.direct(router).catch(() => undefined);
    const transport = await router.createWebRtcTransport({
      webRtcServer: worker.webRtcServer,
      enableSctp: true,
      numSctpStreams: { OS: 1024, MIS: 1024 },
      maxSctpMessageSize: MAX_MESSAGE_SIZE,
    });
    if (this.#closed) {
      transport.close();
      throw new ParleyError('internal', 'media router is closed');
    }
    return { router, transport };
  }

  pipe(a: MediaTransport, b: MediaTransport): void {
    this.#notClosed();
    const left = this.#own(a);
    const right = this.#own(b);
    if (left === right) throw new ParleyError('internal', 'cannot pipe a transport to itself');
    if (left instanceof MsPlainTransport && right instanceof MsPlainTransport) {
      if (!left.relay || !right.relay) {
        throw new ParleyError('internal', 'cannot pipe a plain leg in the worker to another');
      }
      left.relay.pipeTo(right.relay);
      this.#log.debug({ a: left.id, b: right.id }, 'media transports piped (relay)');
      return;
    }
    const [web, other] =
      left instanceof MsWebRtcTransport ? [left, right] : [right as MsWebRtcTransport, left];
    if (!web.negotiated || (other instanceof MsWebRtcTransport && !other.negotiated)) {
      throw new ParleyError('internal', 'pipe() before the browser leg was negotiated');
    }
    const key = [left.id, right.id].sort().join('|');
    if (this.#bridged.has(key)) return;
    this.#bridged.add(key);
    this.#bridge(web, other).then(
      () => this.#log.debug({ a: left.id, b: right.id }, 'media transports piped (worker)'),
      (error: unknown) => {
        if (this.#closed) return;
        // A leg that closed while it was joined (an agent busy right after its early 183):
        // its call goes on without it (the ring strategy or the flow's dial hears the failure).
        if (left.closed || right.closed) {
          this.#bridged.delete(key);
          this.#log.debug({ err: error, a: left.id, b: right.id }, 'a leg closed as it was joined');
          return;
        }
        this.#log.error({ err: error }, 'media legs could not be joined');
        this.#fail(`the legs could not be joined: ${(error as Error).message}`);
      },
    );
  }

  openEndpoint(transport: MediaTransport, options: MediaEndpointOptions): Promise<MediaEndpoint> {
    try {
      this.#notClosed();
      return this.#endpoints.open(this.#own(transport), options);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#meter.stop();
    for (const transport of [...this.#plain]) transport.close();
    for (const transport of [...this.#webrtc]) transport.close();
    this.#endpoints.close();
    this.#routers.close();
    this.#log.debug('media router closed');
    this.#options.onClose(this);
    this.#safeEmit('close');
  }

  async #bridge(
    web: MsWebRtcTransport,
    other: MsPlainTransport | MsWebRtcTransport,
  ): Promise<void> {
    const negotiated = web.negotiated!;
    const webRouter = web.router;
    const webProducer = web.producer;
    if (!webRouter || !webProducer) {
      throw new ParleyError('internal', 'the browser leg has no producer');
    }
    if (other instanceof MsWebRtcTransport) {
      const otherRouter = other.router;
      const otherProducer = other.producer;
      if (!otherRouter || !otherProducer) {
        throw new ParleyError('internal', 'the browser leg has no producer');
      }
      await Promise.all([
        this.#across(webProducer, webRouter, otherRouter).then((p) =>
          this.#endpoints.deliver(other, web, p, () => other.consume(p)),
        ),
        this.#across(otherProducer, otherRouter, webRouter).then((p) =>
          this.#endpoints.deliver(web, other, p, () => web.consume(p)),
        ),
      ]);
      return;
    }
    // The plain leg carries the same codec, with the agent's own telephone-event number.
    const te = negotiated.peerTelephoneEvent;
    const plainRouter = await this.#routers.routerFor([negotiated.codec, ...(te ? [te] : [])]);
    const worker = await other.upgrade(plainRouter, negotiated.codec, te);
    const plainProducer = other.producer;
    if (!plainProducer) throw new ParleyError('internal', 'the plain leg has no producer');
    // An endpoint opened on the leg while it was relayed follows it into the worker.
    await this.#endpoints.moved(other);
    // Both directions at once: the browser's audio flows as soon as its DTLS is up.
    const [toPlain] = await Promise.all([
      this.#across(webProducer, webRouter, plainRouter).then((producer) =>
        this.#endpoints.deliver(other, web, producer, () =>
          worker.consume({
            producerId: producer.id,
            rtpCapabilities: legCapabilities(negotiated.codec, te),
          }),
        ),
      ),
      this.#across(plainProducer, plainRouter, webRouter).then((producer) =>
        this.#endpoints.deliver(web, other, producer, () => web.consume(producer)),
      ),
    ]);
    if (te) {
      this.#dtmf.set(
        web,
        new DtmfSender({
          direct: () => this.#routers.direct(plainRouter),
          agent: worker,
          audio: toPlain,
          codec: negotiated.codec,
          telephoneEvent: te,
          now: this.#options.now,
          logger: this.#log,
        }),
      );
    }
  }

  /** `producer` (on `from`) as a producer on `to`: itself, or piped there (pipeToRouter). */
  async #across(
    producer: types.Producer,
    from: types.Router,
    to: types.Router,
  ): Promise<types.Producer> {
    if (from === to) return producer;
    // keepId off: both routers are on one worker, whose ids must be unique.
    const piped = from.pipeToRouter({ producerId: producer.id, router: to, keepId: false });
    const { pipeProducer } = await piped.catch((error: unknown) => {
      // mediasoup keeps a failed pipe pair for the two routers: no later call gets
      // them (a producer the call closed meanwhile failed the pipe, not the pair).
      if (!producer.closed) {
        this.#routers.retire(from);
        this.#routers.retire(to);
      }
      throw error;
    });
    if (!pipeProducer) throw new ParleyError('internal', 'pipeToRouter gave no producer');
    return pipeProducer;
  }

  readonly #onWorkerDied = (error: Error): void => {
    if (this.#closed) return;
    this.#fail(`the media worker died: ${error.message}`);
  };

  /** The call's media is gone: say so (the call ends it as media_failed), then close. */
  #fail(detail: string): void {
    if (this.#closed) return;
    this.#safeEmit('failed', { reason: 'media_failed', detail });
    for (const web of [...this.#webrtc]) web.emit('state', 'failed');
    this.close();
  }

  #own(transport: MediaTransport): MsPlainTransport | MsWebRtcTransport {
    const mine =
      (transport instanceof MsPlainTransport && this.#plain.has(transport)) ||
      (transport instanceof MsWebRtcTransport && this.#webrtc.has(transport));
    if (!mine || transport.closed) {
      throw new ParleyError('internal', `transport ${transport.id} is not open on this router`);
    }
    return transport as MsPlainTransport | MsWebRtcTransport;
  }

  #notClosed(): void {
    if (this.#closed) throw new ParleyError('internal', 'media router is closed');
  }

  /** A throwing listener is logged, never allowed to break the router or crash a timer. */
  #safeEmit<K extends keyof MediaRouterEvents>(event: K, ...args: MediaRouterEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: MediaRouterEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.#log.error({ err: error, event }, 'media router listener threw');
    }
  }
}
