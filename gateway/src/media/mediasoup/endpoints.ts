/**
 * A call's media endpoints in the mediasoup engine (endpoint.ts): which leg
 * has one open, each leg's outgoing stream once made in Node, and where the
 * router's bridges deliver a piped leg's audio (straight to the leg's worker
 * transport, or into its outlet).
 */
import type { Logger } from 'pino';
import type { types } from 'mediasoup';
import { ParleyError } from '@parley/shared/errors';
import type { MediaEndpointOptions } from '../engine.js';
import { legCapabilities } from './codecs.js';
import { LegOutlet, MsEndpoint, type WorkerLeg } from './endpoint.js';
import { MsPlainTransport } from './plain-transport.js';
import type { MsWebRtcTransport } from './webrtc-transport.js';

type Leg = MsPlainTransport | MsWebRtcTransport;

export interface EndpointsOptions {
  readonly direct: (router: types.Router) => Promise<types.DirectTransport>;
  readonly now: () => number;
  readonly logger: Logger;
  /** A consumer now carries a piped leg's audio toward `leg` (for the call's counters). */
  readonly delivering: (consumer: types.Consumer, leg: Leg, from: Leg) => void;
  /**
   * An endpoint's tap now hears `leg` (for the call's counters: with no bridge
   * left, as after an agent's early media, it alone shows the leg is live).
   */
  readonly hearing: (tap: types.Consumer, leg: Leg) => void;
}

interface Delivery {
  readonly from: Leg;
  readonly producer: types.Producer;
  consumer: types.Consumer;
}

export class CallEndpoints {
  readonly #options: EndpointsOptions;
  readonly #endpoints = new Map<string, MsEndpoint>();
  readonly #outlets = new Map<string, Promise<LegOutlet>>();
  /** What each leg receives straight from another leg's producer (no outlet yet). */
  readonly #deliveries = new Map<string, Delivery[]>();

  constructor(options: EndpointsOptions) {
    this.#options = options;
  }

  async open(leg: Leg, options: MediaEndpointOptions): Promise<MsEndpoint> {
    if (this.#endpoints.has(leg.id)) {
      throw new ParleyError('internal', `transport ${leg.id} has a media endpoint open already`);
    }
    const endpoint = new MsEndpoint({
      ...options,
      transportId: leg.id,
      logger: this.#options.logger,
      onClose: (e) => {
        if (this.#endpoints.get(leg.id) === e) this.#endpoints.delete(leg.id);
      },
    });
    this.#endpoints.set(leg.id, endpoint);
    try {
      if (leg instanceof MsPlainTransport && !leg.inWorker) {
        const relay = leg.relay;
        if (!relay) throw new ParleyError('internal', 'the plain leg has no relay');
        // A relay endpoint closes with the relay: for good, unless the leg moved into the worker.
        endpoint.useRelay(relay.openEndpoint(options), () => {
          if (!leg.inWorker || leg.closed) endpoint.close();
        });
        return endpoint;
      }
      await this.#useWorker(leg, endpoint);
      return endpoint;
    } catch (error) {
      endpoint.close();
      throw error;
    }
  }

  /** A plain leg moved into the worker: its endpoint (if any) follows it there. */
  async moved(leg: MsPlainTransport): Promise<void> {
    const endpoint = this.#endpoints.get(leg.id);
    if (endpoint && !endpoint.closed) await this.#useWorker(leg, endpoint);
  }

  /**
   * Delivers `producer` (the audio of `from`, on `leg`'s router) to `leg`:
   * into the leg's outlet when it has one, else by `consume` (a consumer on
   * the leg's worker transport), noted so that an outlet made later takes it over.
   */
  async deliver(
    leg: Leg,
    from: Leg,
    producer: types.Producer,
    consume: () => Promise<types.Consumer>,
  ): Promise<types.Consumer> {
    const outlet = this.#outlets.get(leg.id);
    if (outlet) return this.#relay(await outlet, producer, leg, from);
    const consumer = await consume();
    const later = this.#outlets.get(leg.id);
    if (later) {
      // An outlet was made meanwhile: it carries this audio instead.
      consumer.close();
      return this.#relay(await later, producer, leg, from);
    }
    const list = this.#deliveries.get(leg.id) ?? [];
    list.push({ from, producer, consumer });
    this.#deliveries.set(leg.id, list);
    this.#options.delivering(consumer, leg, from);
    return consumer;
  }

  async #relay(outlet: LegOutlet, producer: types.Producer, leg: Leg, from: Leg) {
    const consumer = await outlet.relayFrom(producer);
    this.#options.delivering(consumer, leg, from);
    return consumer;
  }

  /** The leg closed: its endpoint and outlet go with it, and what it delivered to the others. */
  closed(legId: string): void {
    this.#endpoints.get(legId)?.close();
    this.#deliveries.delete(legId);
    // Its audio to another leg (an agent's early media to the caller, that agent gone now)
    // must not be moved into that leg's outlet later: its producer is closed.
    for (const [id, list] of this.#deliveries) {
      this.#deliveries.set(
        id,
        list.filter((d) => d.from.id !== legId),
      );
    }
    const outlet = this.#outlets.get(legId);
    this.#outlets.delete(legId);
    void outlet?.then(
      (o) => o.close(),
      () => undefined,
    );
  }

  close(): void {
    for (const id of [...new Set([...this.#endpoints.keys(), ...this.#outlets.keys()])]) {
      this.closed(id);
    }
  }

  async #useWorker(leg: Leg, endpoint: MsEndpoint): Promise<void> {
    const worker = await this.#workerLeg(leg);
    const direct = await this.#options.direct(worker.router);
    const heard = worker.producer;
    const [tap, outlet] = await Promise.all([
      heard &&
        direct.consume({
          producerId: heard.id,
          rtpCapabilities: legCapabilities(worker.codec, worker.telephoneEvent),
        }),
      this.#outlet(leg, worker, direct),
    ]);
    if (tap) this.#options.hearing(tap, leg);
    endpoint.useWorker(tap, outlet);
  }

  /** The leg's outlet, made on first need; what the leg received straight moves into it. */
  #outlet(leg: Leg, worker: WorkerLeg, direct: types.DirectTransport): Promise<LegOutlet> {
    let outlet = this.#outlets.get(leg.id);
    if (outlet) return outlet;
    outlet = LegOutlet.open(worker, direct, this.#options.now).then(async (made) => {
      // Only what still flows: a producer closed meanwhile cannot be consumed again.
      const straight = (this.#deliveries.get(leg.id) ?? []).filter((d) => !d.producer.closed);
      this.#deliveries.delete(leg.id);
      await Promise.all(
        straight.map(async (d) => {
          d.consumer.close();
          await this.#relay(made, d.producer, leg, d.from);
        }),
      );
      return made;
    });
    this.#outlets.set(leg.id, outlet);
    outlet.catch(() => {
      if (this.#outlets.get(leg.id) === outlet) this.#outlets.delete(leg.id);
    });
    return outlet;
  }

  async #workerLeg(leg: Leg): Promise<WorkerLeg> {
    if (leg instanceof MsPlainTransport) {
      const transport = await leg.upgrading;
      const carries = leg.carries;
      const producer = leg.producer;
      if (!transport || !carries || !producer) {
        throw new ParleyError('internal', 'the plain leg is not in the worker');
      }
      return { transport, producer, ...carries };
    }
    const negotiated = leg.negotiated;
    const transport = leg.worker;
    const router = leg.router;
    const producer = leg.producer;
    if (!negotiated || !transport || !router) {
      throw new ParleyError('internal', 'the browser leg is not negotiated');
    }
    return {
      router,
      transport,
      producer,
      codec: negotiated.codec,
      telephoneEvent: negotiated.telephoneEvent,
    };
  }
}
