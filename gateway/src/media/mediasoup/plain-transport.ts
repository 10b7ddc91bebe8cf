/**
 * A SIP or trunk leg in the mediasoup engine. It starts as the relay's plain
 * transport (Node sockets on an even/odd port pair), because until it is piped
 * nothing says which codec it will carry, and mediasoup cannot route RTP
 * without one:
 * - piped to another plain leg (a SIP visitor to a SIP agent), it stays a relay:
 *   bytes pass unchanged whatever the two ends negotiated;
 * - piped to a browser leg, whose negotiated codec is then known, it moves into
 *   the worker ({@link upgrade}): a mediasoup PlainTransport binds the same
 *   two ports, then the Node sockets close, so the SDP already sent stays true
 *   and the port is never closed to a peer already sending.
 *
 * The worker's PlainTransport runs in comedia mode with the peer's SDP address
 * given to connect(): with Parley's worker patch (scripts/mediasoup-worker-build.sh,
 * patch 5) media goes there until the peer's first packet latches it to the
 * real source, as the relay does (symmetric RTP, RFC 4961). RTCP stays on the
 * odd port (no rtcp-mux), which is what SIP phones expect without `a=rtcp-mux`;
 * RTCP arriving on the RTP port is taken too.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { types } from 'mediasoup';
import { ParleyError } from '@parley/shared/errors';
import type { AudioCodec, PlainRtpTransport, TransportStats } from '../engine.js';
import type { PortPair } from '../port-allocator.js';
import { RelayTransport, type RelayTransportStats } from '../relay-transport.js';
import { TransportCounters } from '../rtp-channel.js';
import { rtpCodecs } from './codecs.js';

export interface MsPlainTransportOptions {
  readonly name: string;
  readonly ports: PortPair;
  /** Address the sockets bind to. */
  readonly address: string;
  /** Address put in SDP (and given to mediasoup as its announced address). */
  readonly localAddress: string;
  readonly now: () => number;
  readonly latchGuardMs: number;
  readonly logger: Logger;
  readonly onClose: (transport: MsPlainTransport) => void;
}

/** What a plain leg carries in the worker: its router, codec and telephone-event (the router's numbers). */
export interface Carries {
  readonly router: types.Router;
  readonly codec: AudioCodec;
  readonly telephoneEvent: AudioCodec | undefined;
}

interface Remote {
  readonly address: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
}

export class MsPlainTransport implements PlainRtpTransport {
  readonly kind = 'plain' as const;
  readonly id = randomUUID();
  readonly name: string;
  readonly localAddress: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  /** @internal Counters once in the worker (polled by the router). */
  readonly counters = new TransportCounters();
  readonly #options: MsPlainTransportOptions;
  readonly #log: Logger;
  readonly #family: 4 | 6;
  #relay: RelayTransport | undefined;
  #ms: types.PlainTransport | undefined;
  #producer: types.Producer | undefined;
  #upgrading: Promise<types.PlainTransport> | undefined;
  /** Set as soon as the move into the worker starts (before the relay closes). */
  #moving = false;
  #carries: Carries | undefined;
  #remote: Remote | undefined;
  /** connect() calls in order (each waits for the one before). */
  #connecting: Promise<void> = Promise.resolve();
  #latchedTo: { address: string; port: number } | undefined;
  #closed = false;

  constructor(options: MsPlainTransportOptions) {
    this.name = options.name;
    this.localAddress = options.localAddress;
    this.rtpPort = options.ports.rtpPort;
    this.rtcpPort = options.ports.rtcpPort;
    this.#options = options;
    this.#family = options.ports.rtp.address().family === 'IPv6' ? 6 : 4;
    this.#log = options.logger.child({ transportId: this.id, transport: options.name });
    // The relay gets the pair with a release() that only closes the sockets:
    // the pair stays leased to this leg until it closes, in the worker or not.
    const pair = options.ports;
    this.#relay = new RelayTransport({
      name: options.name,
      ports: {
        rtpPort: pair.rtpPort,
        rtcpPort: pair.rtcpPort,
        rtp: pair.rtp,
        rtcp: pair.rtcp,
        get released() {
          return pair.released;
        },
        closeSockets: () => pair.closeSockets(),
        release: () => pair.closeSockets(),
      },
      localAddress: options.localAddress,
      now: options.now,
      latchGuardMs: options.latchGuardMs,
      logger: options.logger,
      onClose: () => undefined,
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** @internal What the router's inactivity check reads: the relay's counters, then the worker's. */
  get activity(): TransportCounters {
    return this.#relay?.counters ?? this.counters;
  }

  /** @internal The relay, while the leg is not in the worker. */
  get relay(): RelayTransport | undefined {
    return this.#relay;
  }

  /** @internal Whether the leg is (or is moving) into the worker. */
  get inWorker(): boolean {
    return this.#moving || this.#upgrading !== undefined;
  }

  /** @internal The move into the worker, once started. */
  get upgrading(): Promise<types.PlainTransport> | undefined {
    return this.#upgrading;
  }

  /** @internal The codec and telephone-event the leg carries in the worker (its router's numbers). */
  get carries(): Carries | undefined {
    return this.#carries;
  }

  /** @internal The producer of what the peer sends, once in the worker. */
  get producer(): types.Producer | undefined {
    return this.#producer;
  }

  /** @internal The worker's transport, once in the worker. */
  get worker(): types.PlainTransport | undefined {
    return this.#ms;
  }

  setRemote(remote: {
    readonly address: string;
    readonly rtpPort: number;
    readonly rtcpPort?: number;
  }): void {
    if (this.#closed) return;
    const family = isIP(remote.address);
    if (family === 0) {
      throw new ParleyError('bad_request', `media address is not an IP literal: ${remote.address}`);
    }
    if (family !== this.#family) {
      throw new ParleyError('bad_request', `media address family IPv${family} is not served here`);
    }
    const rtcpPort = remote.rtcpPort ?? (remote.rtpPort === 0 ? 0 : remote.rtpPort + 1);
    for (const port of [remote.rtpPort, rtcpPort]) {
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new ParleyError('bad_request', `media port out of range: ${port}`);
      }
    }
    if (this.#relay) {
      this.#relay.setRemote(remote);
    }
    const next = { address: remote.address, rtpPort: remote.rtpPort, rtcpPort };
    const previous = this.#remote;
    this.#remote = next;
    if (
      this.#ms &&
      (previous?.address !== next.address ||
        previous.rtpPort !== next.rtpPort ||
        previous.rtcpPort !== next.rtcpPort)
    ) {
      this.#connect(this.#ms, next);
    }
  }

  /**
   * @internal Moves the leg into the worker, carrying `codec` (and
   * telephone-event) from its peer: a producer of what the peer sends.
   * Resolves once the producer exists; safe to call again (same promise).
   */
  upgrade(
    router: types.Router,
    codec: AudioCodec,
    telephoneEvent: AudioCodec | undefined,
  ): Promise<types.PlainTransport> {
    this.#upgrading ??= this.#moveIntoWorker(router, codec, telephoneEvent);
    return this.#upgrading;
  }

  async #moveIntoWorker(
    router: types.Router,
    codec: AudioCodec,
    telephoneEvent: AudioCodec | undefined,
  ): Promise<types.PlainTransport> {
    if (this.#closed) throw new ParleyError('internal', 'transport is closed');
    this.#moving = true;
    this.#carries = { router, codec, telephoneEvent };
    // A leg moves into the worker only when first piped, so the relay never
    // routed anything: its counters (early packets, dropped) are not carried.
    const { address, localAddress } = this.#options;
    const announced = localAddress !== address ? { announcedAddress: localAddress } : {};
    // The worker binds the two ports while the relay's sockets still hold them
    // (both SO_REUSEADDR: `round-robin.ts` bindSocket's handover; either may
    // get a packet meanwhile), and only then do they close: a peer already
    // sending never meets a closed port (an ICMP port unreachable, after which
    // an RTP stack on a connected socket, sipp's, stops sending for good).
    // A worker that cannot bind them (or a router gone) leaves the relay as it
    // was: the leg keeps its media and the caller hears the failure.
    const reuse = { flags: { udpReusePort: true } };
    const transport = await router
      .createPlainTransport({
        listenInfo: { protocol: 'udp', ip: address, ...announced, port: this.rtpPort, ...reuse },
        rtcpListenInfo: {
          protocol: 'udp',
          ip: address,
          ...announced,
          port: this.rtcpPort,
          ...reuse,
        },
        rtcpMux: false,
        comedia: true,
      })
      .catch((error: unknown) => {
        // Still the relay's: endpoints and a later pipe see it so, and may try again.
        this.#moving = false;
        this.#carries = undefined;
        this.#upgrading = undefined;
        throw error;
      });
    const relay = this.#relay;
    if (relay) {
      this.#latchedTo = relay.stats().latchedTo;
      relay.close(); // closes the Node sockets; the pair stays ours
      this.#relay = undefined;
    }
    if (this.#closed) {
      transport.close();
      throw new ParleyError('internal', 'transport is closed');
    }
    this.#ms = transport;
    transport.on('tuple', (tuple) => {
      this.#latchedTo = { address: tuple.remoteIp ?? '', port: tuple.remotePort ?? 0 };
      this.#log.debug({ to: this.#latchedTo }, 'media source latched');
    });
    if (this.#remote) this.#connect(transport, this.#remote);
    this.#producer = await transport.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: rtpCodecs(codec, telephoneEvent),
        // The phone's own SSRC is never signalled: with Parley's worker patch
        // (patch 6) its packets take this one, whatever SSRC they carry.
        encodings: [{ ssrc: randomInt(1, 2 ** 32 - 1) }],
        rtcp: { cname: 'parley', reducedSize: false },
      },
    });
    this.#log.debug({ rtpPort: this.rtpPort, codec: codec.name }, 'media transport in the worker');
    return transport;
  }

  /** connect() in order; a peer on hold at 0.0.0.0 (RFC 3264 §8.4) keeps the latch. */
  #connect(transport: types.PlainTransport, remote: Remote): void {
    if (remote.rtpPort === 0 || remote.address === '0.0.0.0' || remote.address === '::') return;
    this.#connecting = this.#connecting
      .then(() =>
        transport.connect({
          ip: remote.address,
          port: remote.rtpPort,
          ...(remote.rtcpPort ? { rtcpPort: remote.rtcpPort } : {}),
        }),
      )
      .catch((error: unknown) => {
        if (!transport.closed) this.#log.warn({ err: error, remote }, 'media connect failed');
      });
  }

  stats(): TransportStats | RelayTransportStats {
    if (this.#relay) return this.#relay.stats();
    const c = this.counters;
    return {
      packetsIn: c.packetsIn,
      packetsOut: c.packetsOut,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      lastRtpAt: c.lastRtpAt,
      latchedTo: this.#latchedTo,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#relay?.close();
    this.#ms?.close();
    this.#options.ports.release();
    this.#options.onClose(this);
  }
}
