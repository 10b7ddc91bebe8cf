/**
 * One direction-agnostic socket of a relay transport (its RTP or its RTCP
 * socket) and the hot path of the relay: a packet received here is checked,
 * latched and sent out of the piped channel's socket. No parsing beyond the
 * first two bytes and no allocation beyond what dgram does itself.
 *
 * Symmetric RTP (RFC 4961) latching, per channel:
 * - until the peer's first packet, media goes where its SDP said;
 * - the first packet latches the channel to its source (the NAT's public side);
 * - a packet from another source moves the latch only if it comes from exactly
 *   the SDP-declared address and port, or if the latched source has been silent
 *   for `latchGuardMs` (1 s): a stranger spraying packets at our port cannot
 *   take over a live stream; its packets are dropped and counted.
 * @internal
 */
import type { RemoteInfo, Socket } from 'node:dgram';

/** Counters a transport shares between its RTP and RTCP channels. Mutable on purpose (hot path). */
export class TransportCounters {
  packetsIn = 0;
  bytesIn = 0;
  packetsOut = 0;
  bytesOut = 0;
  rtpPacketsIn = 0;
  rtcpPacketsIn = 0;
  lastRtpAt: number | undefined = undefined;
  junkPackets = 0;
  rejectedPackets = 0;
  unroutedPackets = 0;
  sendErrors = 0;
  /** Set by the router's inactivity check; the next RTP packet clears it. */
  silent = false;
}

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface ChannelObserver {
  latched(channel: RtpChannel, from: Endpoint | undefined, to: Endpoint): void;
  rejected(channel: RtpChannel, source: Endpoint): void;
  sendError(channel: RtpChannel, error: Error): void;
}

/** RTP fixed header (RFC 3550 §5.1) and the smallest RTCP packet, an empty RR (§6.4.2). */
const MIN_RTP_LENGTH = 12;
const MIN_RTCP_LENGTH = 8;

/** Where a channel hands the packets it receives: the piped transport's channel, or a WebRTC sender. */
export interface PacketSink {
  /** Sends one packet on; false when there is nowhere to send it yet. */
  deliver(packet: Buffer): boolean;
}

/**
 * What a media endpoint hooks into an RTP channel's sending side: every packet
 * relayed toward the leg passes `relayed` first (false: drop it, the
 * application has the floor; it may rewrite the packet in place), and every
 * packet that left is reported to `sent`.
 */
export interface OutboundHook {
  relayed(packet: Buffer): boolean;
  sent(packet: Buffer): void;
}

export class RtpChannel implements PacketSink {
  /** Where received packets go; undefined until pipe() and after close. */
  peer: PacketSink | undefined = undefined;
  /** A media endpoint's tap on received RTP (never RTCP); called before the packet is relayed. */
  tap: ((packet: Buffer) => void) | undefined = undefined;
  /** A media endpoint's hook on the sending side (RTP channel only). */
  outbound: OutboundHook | undefined = undefined;
  readonly kind: 'rtp' | 'rtcp';
  readonly socket: Socket;
  readonly #counters: TransportCounters;
  readonly #now: () => number;
  readonly #guardMs: number;
  readonly #observer: ChannelObserver;
  readonly #minLength: number;
  #closed = false;
  /** From the peer's SDP; undefined/0 when unknown or on hold with c=0.0.0.0. */
  #sdpAddress: string | undefined = undefined;
  #sdpPort = 0;
  #latchedAddress: string | undefined = undefined;
  #latchedPort = 0;
  #lastFromLatched = 0;
  #warnedReject = false;
  /** Where the media came from before a re-INVITE moved it, and when it moved. */
  #retired: Endpoint[] = [];
  #movedAt = 0;
  /** Where this channel sends: the latched source, else the SDP address; port 0 = nowhere. */
  #dstAddress = '';
  #dstPort = 0;

  constructor(options: {
    kind: 'rtp' | 'rtcp';
    socket: Socket;
    counters: TransportCounters;
    now: () => number;
    latchGuardMs: number;
    observer: ChannelObserver;
  }) {
    this.kind = options.kind;
    this.socket = options.socket;
    this.#counters = options.counters;
    this.#now = options.now;
    this.#guardMs = options.latchGuardMs;
    this.#observer = options.observer;
    this.#minLength = options.kind === 'rtp' ? MIN_RTP_LENGTH : MIN_RTCP_LENGTH;
    this.socket.on('message', (message: Buffer, rinfo: RemoteInfo) =>
      this.#receive(message, rinfo),
    );
    // Without a callback, dgram reports send errors here; an unhandled 'error' would crash the process.
    this.socket.on('error', (error: Error) => {
      this.#counters.sendErrors++;
      this.#observer.sendError(this, error);
    });
  }

  get latchedTo(): Endpoint | undefined {
    return this.#latchedAddress === undefined
      ? undefined
      : { address: this.#latchedAddress, port: this.#latchedPort };
  }

  get sdpRemote(): Endpoint | undefined {
    return this.#sdpAddress === undefined
      ? undefined
      : { address: this.#sdpAddress, port: this.#sdpPort };
  }

  /**
   * The peer's SDP address. An unspecified address (0.0.0.0, ::, port 0: old-style hold or a
   * rejected stream) stops sending there but keeps the latch. A different address (a re-INVITE
   * moved the media) drops the latch: send to the new address until its first packet.
   */
  setRemote(address: string, port: number): void {
    const unspecified = port === 0 || address === '0.0.0.0' || address === '::';
    const nextAddress = unspecified ? undefined : address;
    const nextPort = unspecified ? 0 : port;
    if (nextAddress === this.#sdpAddress && nextPort === this.#sdpPort) return;
    const moved = this.#sdpAddress !== undefined && nextAddress !== undefined;
    if (moved) {
      // The old stream's packets still in flight must not latch the channel back to it.
      this.#retired = [this.latchedTo, this.sdpRemote].filter(
        (e): e is Endpoint => e !== undefined,
      );
      this.#movedAt = this.#now();
      this.#latchedAddress = undefined;
      this.#latchedPort = 0;
    }
    this.#sdpAddress = nextAddress;
    this.#sdpPort = nextPort;
    this.#route();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.peer instanceof RtpChannel && this.peer.peer === this) this.peer.peer = undefined;
    this.peer = undefined;
    this.tap = undefined;
    this.outbound = undefined;
    this.#dstPort = 0;
  }

  #route(): void {
    if (this.#latchedAddress !== undefined) {
      this.#dstAddress = this.#latchedAddress;
      this.#dstPort = this.#latchedPort;
    } else if (this.#sdpAddress !== undefined) {
      this.#dstAddress = this.#sdpAddress;
      this.#dstPort = this.#sdpPort;
    } else {
      this.#dstAddress = '';
      this.#dstPort = 0;
    }
  }

  #receive(message: Buffer, rinfo: RemoteInfo): void {
    const counters = this.#counters;
    const length = message.length;
    // RTP and RTCP both carry version 2 in the top two bits of the first byte.
    if (length < this.#minLength || (message[0]! & 0xc0) !== 0x80) {
      counters.junkPackets++;
      return;
    }
    const now = this.#now();
    if (rinfo.port !== this.#latchedPort || rinfo.address !== this.#latchedAddress) {
      if (!this.#latch(rinfo.address, rinfo.port, now)) {
        counters.rejectedPackets++;
        return;
      }
    }
    this.#lastFromLatched = now;
    counters.packetsIn++;
    counters.bytesIn += length;
    // With rtcp-mux, RTCP shares the RTP socket: packet types 192-223 are RTCP (RFC 5761 §4).
    const secondByte = message[1]!;
    if (this.kind === 'rtp' && (secondByte < 192 || secondByte > 223)) {
      counters.rtpPacketsIn++;
      counters.lastRtpAt = now;
      counters.silent = false;
      const tap = this.tap;
      if (tap !== undefined) {
        tap(message);
        // An application listening is where the packet goes when the leg is not piped.
        if (this.peer === undefined) return;
      }
    } else {
      counters.rtcpPacketsIn++;
    }
    const peer = this.peer;
    if (peer === undefined || !peer.deliver(message)) counters.unroutedPackets++;
  }

  /** Sends a packet relayed from the piped channel to where the peer receives. */
  deliver(message: Buffer): boolean {
    if (this.#dstPort === 0) return false;
    const hook = this.outbound;
    if (hook === undefined) {
      this.#send(message);
      return true;
    }
    // Dropped while an application speaks: routed all the same (not "unrouted").
    if (!hook.relayed(message)) return true;
    this.#send(message);
    hook.sent(message);
    return true;
  }

  /** Sends a packet a media application made; false when there is nowhere to send yet. */
  sendOwn(message: Buffer): boolean {
    if (this.#dstPort === 0 || this.#closed) return false;
    this.#send(message);
    this.outbound?.sent(message);
    return true;
  }

  #send(message: Buffer): void {
    this.socket.send(message, 0, message.length, this.#dstPort, this.#dstAddress);
    const out = this.#counters;
    out.packetsOut++;
    out.bytesOut += message.length;
  }

  #latch(address: string, port: number, now: number): boolean {
    const fromSdpAddress = address === this.#sdpAddress && port === this.#sdpPort;
    const guarded =
      this.#latchedAddress !== undefined
        ? now - this.#lastFromLatched < this.#guardMs
        : now - this.#movedAt < this.#guardMs &&
          this.#retired.some((e) => e.address === address && e.port === port);
    if (!fromSdpAddress && guarded) {
      if (!this.#warnedReject) {
        this.#warnedReject = true;
        this.#observer.rejected(this, { address, port });
      }
      return false;
    }
    const from = this.latchedTo;
    this.#latchedAddress = address;
    this.#latchedPort = port;
    this.#warnedReject = false;
    this.#route();
    this.#observer.latched(this, from, { address, port });
    return true;
  }
}
