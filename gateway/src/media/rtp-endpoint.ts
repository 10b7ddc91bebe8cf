/**
 * The relay engine's {@link MediaEndpoint}: shared by its plain and WebRTC
 * transports, which call `received`/`sent` for every RTP packet of the leg
 * and give it a way to transmit. The transport keeps the {@link OutboundStream}
 * (it outlives the endpoint: once an application spoke, the leg's stream stays
 * rewritten for the rest of the call).
 * @internal
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type {
  AudioCodec,
  MediaEndpoint,
  MediaEndpointEvents,
  MediaEndpointOptions,
} from './engine.js';
import { parseRtp, type OutgoingRtp, type RtpPacketView } from './rtp-packet.js';
import type { OutboundStream } from './rtp-stream.js';

export interface RelayEndpointOptions extends MediaEndpointOptions {
  readonly transportId: string;
  readonly stream: OutboundStream;
  readonly now: () => number;
  readonly logger: Logger;
  /** Sends a finished packet out of the transport; false when there is nowhere to send. */
  readonly transmit: (packet: Buffer) => boolean;
  readonly onClose: (endpoint: RelayEndpoint) => void;
}

export class RelayEndpoint extends EventEmitter<MediaEndpointEvents> implements MediaEndpoint {
  readonly id = randomUUID();
  readonly transportId: string;
  readonly codec: AudioCodec;
  readonly telephoneEvent: AudioCodec | undefined;
  readonly #options: RelayEndpointOptions;
  readonly #log: Logger;
  #closed = false;

  constructor(options: RelayEndpointOptions) {
    super();
    this.transportId = options.transportId;
    this.codec = options.codec;
    this.telephoneEvent = options.telephoneEvent;
    this.#options = options;
    this.#log = options.logger.child({ endpointId: this.id });
    this.#log.debug(
      { codec: options.codec.name, telephoneEvent: options.telephoneEvent?.payloadType },
      'media endpoint open',
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(packet: OutgoingRtp): boolean {
    if (this.#closed) return false;
    const pt = packet.payloadType;
    if (pt !== this.codec.payloadType && pt !== this.telephoneEvent?.payloadType) return false;
    return this.#options.transmit(this.#options.stream.own(packet, this.#options.now()));
  }

  /** @internal A packet from the leg's peer (a raw RTP packet; RTCP is ignored). */
  received(packet: Buffer): void {
    const view = parseRtp(packet);
    if (view) this.#emitRtp(view, 'in');
  }

  /** @internal A packet from the leg's peer, parsed already (werift hands packets parsed). */
  receivedView(view: RtpPacketView): void {
    this.#emitRtp(view, 'in');
  }

  /** @internal A packet that left toward the leg's peer. */
  sent(packet: Buffer): void {
    const view = parseRtp(packet);
    if (view) this.#emitRtp(view, 'out');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.onClose(this);
    this.#log.debug('media endpoint closed');
    try {
      this.emit('close');
    } catch (error) {
      this.#log.error({ err: error }, 'media endpoint close listener threw');
    }
    this.removeAllListeners();
  }

  /** A throwing application must not break the relay's receive path. */
  #emitRtp(view: RtpPacketView, direction: 'in' | 'out'): void {
    if (this.#closed) return;
    try {
      this.emit('rtp', view, direction);
    } catch (error) {
      this.#log.error({ err: error, direction }, 'media application listener threw');
    }
  }
}
