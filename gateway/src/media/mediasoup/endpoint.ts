/**
 * The gateway's own media endpoint on a leg of the mediasoup engine (the
 * contract in engine.ts), fed through the worker:
 *
 * - what the leg's peer sends reaches Node through a consumer of the leg's
 *   producer on the call's DirectTransport on its router (the `in` tap);
 * - what the leg's peer receives comes from one producer on that
 *   DirectTransport ({@link LegOutlet}), consumed on the leg: the piped leg's
 *   packets (through a DirectTransport consumer) and the application's go
 *   through an {@link OutboundStream} in Node, so the peer sees one stream with
 *   continuous numbering and the application has the floor. mediasoup cannot
 *   insert packets into a consumer's stream or switch a consumer's producer,
 *   which is why the leg's outgoing stream is made in Node once an application
 *   may speak on it; it stays so for the rest of the call (the peer keeps one
 *   SSRC), at the cost of the Node hop for that leg's direction only.
 *
 * A plain leg still relayed in Node (not piped to a browser leg) uses the
 * relay's endpoint; when the leg moves into the worker, the endpoint follows it.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { types } from 'mediasoup';
import type {
  AudioCodec,
  MediaEndpoint,
  MediaEndpointEvents,
  MediaEndpointOptions,
  OutgoingRtp,
  RtpDirection,
  RtpPacketView,
} from '../engine.js';
import { parseRtp } from '../rtp-packet.js';
import type { RelayEndpoint } from '../rtp-endpoint.js';
import { OutboundStream } from '../rtp-stream.js';
import { legCapabilities, rtpCodecs } from './codecs.js';

/** A leg in the worker, as the endpoint needs it. */
export interface WorkerLeg {
  readonly router: types.Router;
  /** The worker transport the leg's peer is on. */
  readonly transport: types.Transport;
  /** What the leg's peer sends (none from a browser that only listens). */
  readonly producer: types.Producer | undefined;
  /** The leg's codec and telephone-event, with its payload types (its router's). */
  readonly codec: AudioCodec;
  readonly telephoneEvent: AudioCodec | undefined;
}

/**
 * A leg's outgoing stream made in Node: one producer on the DirectTransport,
 * consumed on the leg. Kept for the call once made.
 */
export class LegOutlet {
  readonly #producer: types.Producer;
  readonly #consumer: types.Consumer;
  readonly #direct: types.DirectTransport;
  readonly #leg: WorkerLeg;
  readonly #stream: OutboundStream;
  readonly #now: () => number;
  readonly #relayed = new Set<types.Consumer>();
  /** The endpoint's `out` tap, while one is open. */
  sink: ((packet: Buffer) => void) | undefined;

  private constructor(
    leg: WorkerLeg,
    direct: types.DirectTransport,
    producer: types.Producer,
    consumer: types.Consumer,
    stream: OutboundStream,
    now: () => number,
  ) {
    this.#leg = leg;
    this.#direct = direct;
    this.#producer = producer;
    this.#consumer = consumer;
    this.#stream = stream;
    this.#now = now;
  }

  static async open(
    leg: WorkerLeg,
    direct: types.DirectTransport,
    now: () => number,
  ): Promise<LegOutlet> {
    const stream = new OutboundStream(leg.codec.clockRate, { rewriteFromStart: true });
    const producer = await direct.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: rtpCodecs(leg.codec, leg.telephoneEvent),
        encodings: [{ ssrc: stream.ssrc }],
      },
    });
    try {
      const consumer = await leg.transport.consume({
        producerId: producer.id,
        rtpCapabilities: legCapabilities(leg.codec, leg.telephoneEvent),
      });
      return new LegOutlet(leg, direct, producer, consumer, stream, now);
    } catch (error) {
      producer.close();
      throw error;
    }
  }

  /** The consumer that carries this stream to the leg's peer. */
  get consumer(): types.Consumer {
    return this.#consumer;
  }

  get closed(): boolean {
    return this.#producer.closed;
  }

  /**
   * Relays `producer` (the piped leg's audio, on this leg's router) into the
   * stream: the application's floor and the stream's numbering apply.
   * Resolves with the DirectTransport consumer carrying it (for counters).
   */
  async relayFrom(producer: types.Producer): Promise<types.Consumer> {
    const consumer = await this.#direct.consume({
      producerId: producer.id,
      rtpCapabilities: legCapabilities(this.#leg.codec, this.#leg.telephoneEvent),
    });
    this.#relayed.add(consumer);
    consumer.observer.once('close', () => this.#relayed.delete(consumer));
    consumer.on('rtp', (packet) => {
      if (this.closed || !this.#stream.relayed(packet, this.#now())) return;
      this.#producer.send(packet);
      this.sink?.(packet);
    });
    return consumer;
  }

  /** An application's packet, in the stream. */
  send(rtp: OutgoingRtp): boolean {
    if (this.closed) return false;
    const packet = this.#stream.own(rtp, this.#now());
    this.#producer.send(packet);
    this.sink?.(packet);
    return true;
  }

  close(): void {
    for (const consumer of this.#relayed) consumer.close();
    this.#consumer.close();
    this.#producer.close();
  }
}

export interface MsEndpointOptions extends MediaEndpointOptions {
  readonly transportId: string;
  readonly logger: Logger;
  readonly onClose: (endpoint: MsEndpoint) => void;
}

export class MsEndpoint extends EventEmitter<MediaEndpointEvents> implements MediaEndpoint {
  readonly id = randomUUID();
  readonly transportId: string;
  readonly codec: AudioCodec;
  readonly telephoneEvent: AudioCodec | undefined;
  readonly #options: MsEndpointOptions;
  readonly #log: Logger;
  #relay: RelayEndpoint | undefined;
  #tap: types.Consumer | undefined;
  #outlet: LegOutlet | undefined;
  #closed = false;

  constructor(options: MsEndpointOptions) {
    super();
    this.transportId = options.transportId;
    this.codec = options.codec;
    this.telephoneEvent = options.telephoneEvent;
    this.#options = options;
    this.#log = options.logger.child({ endpointId: this.id, transportId: options.transportId });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** @internal The leg is relayed in Node: the relay's endpoint serves (`onGone`: it closed). */
  useRelay(relay: RelayEndpoint, onGone: () => void): void {
    this.#relay = relay;
    relay.on('rtp', (packet, direction) => this.#emitRtp(packet, direction));
    relay.once('close', () => {
      if (this.#relay === relay) this.#relay = undefined;
      onGone();
    });
  }

  /** @internal The leg is in the worker: hear it through `tap`, speak through `outlet`. */
  useWorker(tap: types.Consumer | undefined, outlet: LegOutlet): void {
    if (this.#closed) {
      tap?.close();
      return;
    }
    this.#tap = tap;
    this.#outlet = outlet;
    tap?.on('rtp', (packet) => {
      const view = parseRtp(packet);
      if (view) this.#emitRtp(view, 'in');
    });
    outlet.sink = (packet) => {
      const view = parseRtp(packet);
      if (view) this.#emitRtp(view, 'out');
    };
  }

  send(packet: OutgoingRtp): boolean {
    if (this.#closed) return false;
    const pt = packet.payloadType;
    if (pt !== this.codec.payloadType && pt !== this.telephoneEvent?.payloadType) return false;
    if (this.#relay) return this.#relay.send(packet);
    return this.#outlet?.send(packet) ?? false;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const relay = this.#relay;
    this.#relay = undefined;
    relay?.close();
    this.#tap?.close();
    if (this.#outlet) this.#outlet.sink = undefined;
    this.#options.onClose(this);
    this.#log.debug('media endpoint closed');
    try {
      this.emit('close');
    } catch (error) {
      this.#log.error({ err: error }, 'media endpoint close listener threw');
    }
    this.removeAllListeners();
  }

  /** A throwing application must not break the worker's notifications. */
  #emitRtp(view: RtpPacketView, direction: RtpDirection): void {
    if (this.#closed) return;
    try {
      this.emit('rtp', view, direction);
    } catch (error) {
      this.#log.error({ err: error, direction }, 'media application listener threw');
    }
  }
}
