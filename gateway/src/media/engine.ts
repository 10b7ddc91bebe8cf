/**
 * The media engine seam. SIP code never touches media directly: `calls/` asks
 * the engine for a router per call and a transport per leg, and hands the
 * routers SDP. The shape follows mediasoup's owned tree (Engine → Router →
 * Transport) so a mediasoup engine can plug in where its worker installs; the
 * default engine relays plain RTP itself and (issue 4) terminates WebRTC with
 * werift.
 *
 * Ownership: closing the engine closes its routers; closing a router closes its
 * transports; `close()` is safe to call twice everywhere.
 */
import type { EventEmitter } from 'node:events';
import type { OutgoingRtp, RtpPacketView } from './rtp-packet.js';

export type { OutgoingRtp, RtpPacketView } from './rtp-packet.js';

export interface MediaEngine {
  readonly kind: string;
  /** One router per call. */
  createRouter(options: MediaRouterOptions): MediaRouter;
  /** Live routers, for /metrics and leak checks. */
  readonly routerCount: number;
  close(): Promise<void>;
}

export interface MediaRouterOptions {
  /** The call's id, for logs. */
  readonly callId: string;
  /**
   * After this long without a packet from either leg (once media has started on
   * it), the router emits `inactive`. 0 disables.
   */
  readonly inactivityTimeoutMs: number;
}

export interface MediaRouterEvents {
  /** No RTP arrived on `transport` for the configured time. */
  inactive: [{ transportId: string; silentForMs: number }];
  /**
   * The call's media is gone for good (the mediasoup worker carrying it died,
   * or its legs could not be joined); the router closes right after. The call
   * ends with `reason` (an error code).
   */
  failed: [{ reason: 'media_failed'; detail: string }];
  /** The router closed (by its owner or because the engine closed). */
  close: [];
}

export interface MediaRouter extends EventEmitter<MediaRouterEvents> {
  readonly id: string;
  readonly closed: boolean;
  /** A plain RTP/RTCP socket pair on the configured address and port range. */
  createPlainTransport(options: { readonly name: string }): Promise<PlainRtpTransport>;
  /** A WebRTC endpoint (ICE-lite, DTLS-SRTP, SCTP data channel) for a browser. */
  createWebRtcTransport(options: { readonly name: string }): Promise<WebRtcTransport>;
  /**
   * Joins two transports: RTP received on one is sent out of the other, both
   * ways (no transcoding: the codecs were negotiated end to end). Between two
   * plain transports RTCP is relayed too; a WebRTC transport terminates RTCP.
   */
  pipe(a: MediaTransport, b: MediaTransport): void;
  /**
   * Opens the gateway's own media endpoint on one of this router's transports:
   * what media applications (players, recorders, DTMF listeners, transcriber
   * feeds: `media/apps/`) use to hear and speak on a leg. One per transport at
   * a time (opening a second while one is open is an error); closing the
   * transport or the router closes it.
   *
   * `codec` and `telephoneEvent` are what the leg negotiated (the engine does
   * not read SDP): packets are sent and recognised with their payload types.
   */
  openEndpoint(transport: MediaTransport, options: MediaEndpointOptions): Promise<MediaEndpoint>;
  close(): void;
}

export interface MediaEndpointOptions {
  readonly codec: AudioCodec;
  readonly telephoneEvent?: AudioCodec | undefined;
}

/**
 * Which way a packet went on the leg: `in` the leg's peer sent it to the
 * gateway; `out` the gateway sent it to the peer (relayed from the piped leg,
 * or sent by an application).
 */
export type RtpDirection = 'in' | 'out';

export interface MediaEndpointEvents {
  /**
   * Every RTP packet of the leg, both ways, whether the transport is piped to
   * another leg or not (a tap: the relay goes on unchanged). RTCP is not
   * reported. `in` packets arrive in network order (loss, reordering and
   * duplicates included); `out` packets as they leave.
   */
  rtp: [packet: RtpPacketView, direction: RtpDirection];
  /** The endpoint closed (by its owner, or with its transport or router). */
  close: [];
}

/**
 * The engine contract for media applications, kept at the RTP level so that
 * every engine can provide it (the relay engine in-process; mediasoup with a
 * DirectTransport or a PlainTransport to the gateway). What an engine must do:
 *
 * - report each RTP packet the leg receives (`in`) and sends (`out`);
 * - send the packets {@link send} is given out of the leg, in one RTP stream
 *   with what the piped leg sends: the same SSRC, sequence numbers and
 *   timestamps continuing across every switch between the application and the
 *   piped leg (see `rtp-stream.ts`);
 * - give the application the floor: while it sends, and for 100 ms after its
 *   last packet, packets from the piped leg are not sent to this leg;
 * - from the first packet an application sends, stop relaying RTCP to and from
 *   the leg (its SSRC is no longer the piped leg's).
 */
export interface MediaEndpoint extends EventEmitter<MediaEndpointEvents> {
  readonly id: string;
  /** The transport (leg) this endpoint speaks and listens on. */
  readonly transportId: string;
  readonly codec: AudioCodec;
  readonly telephoneEvent: AudioCodec | undefined;
  readonly closed: boolean;
  /**
   * Sends one packet on the leg. `payloadType` must be the codec's or
   * telephone-event's; `timestamp` is in the application's own timeline (the
   * stream maps it), and `marker` starts a new talkspurt (re-anchors the
   * timeline: set it on a player's first packet). False when the packet could
   * not be sent: closed, an unknown payload type, nowhere to send yet.
   */
  send(packet: OutgoingRtp): boolean;
  close(): void;
}

export type MediaTransport = PlainRtpTransport | WebRtcTransport;

/** An audio codec as SDP names it, with the payload type both legs use. */
export interface AudioCodec {
  readonly name: string;
  readonly clockRate: number;
  readonly channels: number;
  readonly payloadType: number;
  readonly fmtp?: string | undefined;
}

export interface WebRtcTransportEvents {
  /** A text message arrived on the data channel. */
  message: [string];
  /** The data channel opened (the browser can now receive messages). */
  dataChannelOpen: [];
  /** ICE/DTLS state: `failed` and `closed` mean the browser is gone. */
  state: ['new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed'];
}

export interface WebRtcTransport extends EventEmitter<WebRtcTransportEvents> {
  readonly kind: 'webrtc';
  readonly id: string;
  readonly name: string;
  readonly closed: boolean;
  /**
   * Answers the browser's offer with exactly `codec` (plus telephone-event at
   * its clock rate when given): the codec the agent chose, so no transcoding is
   * needed. Resolves with the answer SDP (ICE-lite, host candidates included).
   */
  answer(offer: string, codec: AudioCodec, telephoneEvent?: AudioCodec): Promise<string>;
  /** Offers a browser (the agent desk's softphone) these codecs; resolves with the offer SDP. */
  offer(codecs: readonly AudioCodec[]): Promise<string>;
  /** Takes the browser's answer to {@link offer}; resolves with the codec it chose. */
  accept(answer: string): Promise<AudioCodec>;
  /** Sends a text message on the data channel; false when it is not open. */
  sendMessage(text: string): boolean;
  /**
   * RFC 4733: sends DTMF `digit` as telephone-event packets in the stream
   * toward the piped transport (the agent), when the agent negotiated events.
   * Resolves false when it cannot (no telephone-event, not piped).
   */
  sendDtmf(digit: string, durationMs: number): Promise<boolean>;
  stats(): TransportStats;
  close(): void;
}

export interface TransportStats {
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Epoch ms of the last RTP packet received, or undefined before the first. */
  readonly lastRtpAt: number | undefined;
  /** Where RTP is actually coming from (symmetric RTP latching), once known. */
  readonly latchedTo: { readonly address: string; readonly port: number } | undefined;
}

export interface PlainRtpTransport {
  readonly kind?: 'plain';
  readonly id: string;
  readonly name: string;
  readonly closed: boolean;
  /** The address and ports to put in SDP (c= and m=; RTCP on rtpPort + 1). */
  readonly localAddress: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  /**
   * Where the peer said (in its SDP) it receives media. Until a packet arrives,
   * media is sent there; once the peer's own packets arrive from another
   * address, media follows them (symmetric RTP, RFC 4961) — the fix for peers
   * behind NAT.
   */
  setRemote(remote: {
    readonly address: string;
    readonly rtpPort: number;
    readonly rtcpPort?: number;
  }): void;
  stats(): TransportStats;
  close(): void;
}
