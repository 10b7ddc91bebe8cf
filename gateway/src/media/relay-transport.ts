/**
 * A plain RTP transport of the relay engine: an RTP and an RTCP socket on an
 * even/odd port pair, each an {@link RtpChannel} that latches on its own (a NAT
 * may map RTCP to an unrelated port). Owned by a router; closing it frees the
 * ports and unlinks the piped transport, which then drops what it receives.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { ParleyError } from '@parley/shared/errors';
import type { MediaEndpointOptions, PlainRtpTransport, TransportStats } from './engine.js';
import type { PortPair } from './port-allocator.js';
import { RelayEndpoint } from './rtp-endpoint.js';
import { OutboundStream } from './rtp-stream.js';
import {
  RtpChannel,
  TransportCounters,
  type ChannelObserver,
  type Endpoint,
} from './rtp-channel.js';

/** {@link TransportStats} plus the relay's own counters. Packet counts include RTCP. */
export interface RelayTransportStats extends TransportStats {
  readonly rtpPacketsIn: number;
  readonly rtcpPacketsIn: number;
  /** Dropped: not RTP/RTCP (version ≠ 2 or shorter than a header). */
  readonly junkPackets: number;
  /** Dropped: from a source other than the latched one while it was active (hijack guard). */
  readonly rejectedPackets: number;
  /** Dropped: received before pipe(), or the other leg has nowhere to send yet. */
  readonly unroutedPackets: number;
  readonly sendErrors: number;
  /** Where RTCP is actually coming from, once known. */
  readonly rtcpLatchedTo: Endpoint | undefined;
}

export interface RelayTransportOptions {
  readonly name: string;
  readonly ports: PortPair;
  readonly localAddress: string;
  readonly now: () => number;
  readonly latchGuardMs: number;
  readonly logger: Logger;
  /** Called once when the transport closes, so its router forgets it. */
  readonly onClose: (transport: RelayTransport) => void;
}

export class RelayTransport implements PlainRtpTransport {
  readonly kind = 'plain' as const;
  readonly id = randomUUID();
  readonly name: string;
  readonly localAddress: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  /** @internal */
  readonly counters = new TransportCounters();
  /** @internal */
  readonly rtp: RtpChannel;
  /** @internal */
  readonly rtcp: RtpChannel;
  readonly #ports: PortPair;
  readonly #logger: Logger;
  readonly #onClose: (transport: RelayTransport) => void;
  /** The socket family: a remote of the other family could never be reached. */
  readonly #family: 4 | 6;
  readonly #now: () => number;
  #closed = false;
  #endpoint: RelayEndpoint | undefined;
  /** Created with the first endpoint; kept after it closes (the leg's stream stays continuous). */
  #stream: OutboundStream | undefined;
  /** Set when an application first spoke: RTCP is no longer relayed to or from this leg. */
  #rtcpTerminated = false;

  constructor(options: RelayTransportOptions) {
    this.name = options.name;
    this.localAddress = options.localAddress;
    this.#ports = options.ports;
    this.rtpPort = options.ports.rtpPort;
    this.rtcpPort = options.ports.rtcpPort;
    this.#onClose = options.onClose;
    this.#now = options.now;
    this.#family = options.ports.rtp.address().family === 'IPv6' ? 6 : 4;
    const logger = options.logger.child({ transportId: this.id, transport: this.name });
    this.#logger = logger;
    const observer: ChannelObserver = {
      latched(channel, from, to) {
        logger.debug({ channel: channel.kind, from, to }, 'media source latched');
      },
      rejected(channel, source) {
        logger.warn(
          { channel: channel.kind, source, latchedTo: channel.latchedTo },
          'media from an unexpected source dropped while the latched source is active',
        );
      },
      sendError(channel, error) {
        logger.debug({ channel: channel.kind, err: error }, 'media send failed');
      },
    };
    const common = {
      counters: this.counters,
      now: options.now,
      latchGuardMs: options.latchGuardMs,
      observer,
    };
    this.rtp = new RtpChannel({ kind: 'rtp', socket: options.ports.rtp, ...common });
    this.rtcp = new RtpChannel({ kind: 'rtcp', socket: options.ports.rtcp, ...common });
    logger.debug({ rtpPort: this.rtpPort, rtcpPort: this.rtcpPort }, 'media transport open');
  }

  get closed(): boolean {
    return this.#closed;
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
    this.rtp.setRemote(remote.address, remote.rtpPort);
    this.rtcp.setRemote(remote.address, rtcpPort);
    this.#logger.debug({ remote: { ...remote, rtcpPort } }, 'media remote set');
  }

  stats(): RelayTransportStats {
    const c = this.counters;
    return {
      packetsIn: c.packetsIn,
      packetsOut: c.packetsOut,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      lastRtpAt: c.lastRtpAt,
      latchedTo: this.rtp.latchedTo,
      rtpPacketsIn: c.rtpPacketsIn,
      rtcpPacketsIn: c.rtcpPacketsIn,
      junkPackets: c.junkPackets,
      rejectedPackets: c.rejectedPackets,
      unroutedPackets: c.unroutedPackets,
      sendErrors: c.sendErrors,
      rtcpLatchedTo: this.rtcp.latchedTo,
    };
  }

  /** True once a media application spoke on this leg (RTCP terminated, stream rewritten). */
  get rtcpTerminated(): boolean {
    return this.#rtcpTerminated;
  }

  /** @internal Joins this transport's channels to `other`'s (called by the router). */
  pipeTo(other: RelayTransport): void {
    const relayRtcp = !this.#rtcpTerminated && !other.rtcpTerminated;
    for (const [mine, theirs] of [
      [this.rtp, other.rtp],
      [this.rtcp, other.rtcp],
    ] as const) {
      if (mine.peer instanceof RtpChannel && mine.peer !== theirs) mine.peer.peer = undefined;
      if (theirs.peer instanceof RtpChannel && theirs.peer !== mine) theirs.peer.peer = undefined;
      if (mine.kind === 'rtcp' && !relayRtcp) {
        mine.peer = undefined;
        theirs.peer = undefined;
        continue;
      }
      mine.peer = theirs;
      theirs.peer = mine;
    }
  }

  /** @internal The transport's media endpoint (called by the router, which checked ownership). */
  openEndpoint(options: MediaEndpointOptions): RelayEndpoint {
    if (this.#closed) throw new ParleyError('internal', 'media transport is closed');
    if (this.#endpoint) {
      throw new ParleyError('internal', `transport ${this.id} has a media endpoint open already`);
    }
    const stream = (this.#stream ??= new OutboundStream(options.codec.clockRate));
    const now = this.#now;
    const endpoint = new RelayEndpoint({
      ...options,
      transportId: this.id,
      stream,
      now,
      logger: this.#logger,
      transmit: (packet) => {
        this.#terminateRtcp();
        return this.rtp.sendOwn(packet);
      },
      onClose: () => {
        this.#endpoint = undefined;
        this.rtp.tap = undefined;
        // The hook stays while the stream rewrites: relayed packets must keep the stream's numbering.
        if (!stream.rewriting) this.rtp.outbound = undefined;
        else this.rtp.outbound = { relayed: (p) => stream.relayed(p, now()), sent: () => {} };
      },
    });
    this.#endpoint = endpoint;
    this.rtp.tap = (packet) => endpoint.received(packet);
    this.rtp.outbound = {
      relayed: (packet) => stream.relayed(packet, now()),
      sent: (packet) => endpoint.sent(packet),
    };
    return endpoint;
  }

  /** The leg's SSRC is ours now: the piped leg's RTCP would describe a stream this peer never sees. */
  #terminateRtcp(): void {
    if (this.#rtcpTerminated) return;
    this.#rtcpTerminated = true;
    const theirs = this.rtcp.peer;
    if (theirs instanceof RtpChannel && theirs.peer === this.rtcp) theirs.peer = undefined;
    this.rtcp.peer = undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#endpoint?.close();
    this.rtp.close();
    this.rtcp.close();
    this.#ports.release();
    const c = this.counters;
    this.#logger.debug(
      {
        packetsIn: c.packetsIn,
        packetsOut: c.packetsOut,
        junkPackets: c.junkPackets,
        rejectedPackets: c.rejectedPackets,
      },
      'media transport closed',
    );
    this.#onClose(this);
  }
}
