/** The SDP model (RFC 8866): a list of lines, so what we do not understand survives in order. */
export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type SdpAddressType = 'IP4' | 'IP6';

export interface SdpConnection {
  readonly addressType: SdpAddressType;
  readonly address: string;
  /** Multicast TTL and/or address count, verbatim with its slashes ("/127/3"). */
  readonly suffix?: string;
}

/** o=<username> <sess-id> <sess-version> IN <addrtype> <unicast-address> */
export interface SdpOrigin {
  readonly username: string;
  readonly sessionId: string;
  /** Decimal digits; may exceed 2^53 (many stacks use NTP timestamps), so kept as text. */
  readonly sessionVersion: string;
  readonly addressType: SdpAddressType;
  readonly address: string;
}

export type SdpLine =
  | { readonly kind: 'connection'; readonly connection: SdpConnection }
  | {
      readonly kind: 'rtpmap';
      readonly pt: number;
      readonly name: string;
      readonly clockRate: number;
      readonly channels?: number;
    }
  | { readonly kind: 'fmtp'; readonly format: string; readonly parameters: string }
  | { readonly kind: 'ptime'; readonly ms: number }
  | { readonly kind: 'direction'; readonly direction: SdpDirection }
  | { readonly kind: 'rtcp'; readonly port: number; readonly connection?: SdpConnection }
  /** Any other a= line: `a=<name>` or `a=<name>:<value>`. */
  | { readonly kind: 'attribute'; readonly name: string; readonly value?: string }
  /** Any other line (i=, t=, b=, …): `<type>=<value>`, verbatim. */
  | { readonly kind: 'other'; readonly type: string; readonly value: string };

export interface SdpMedia {
  /** audio, video, image, … */
  readonly media: string;
  readonly port: number;
  /** The `/<number of ports>` of m=, when present. */
  readonly portCount?: number;
  /** RTP/AVP, RTP/SAVP, udptl, … */
  readonly proto: string;
  /** Payload types for RTP protocols, other tokens otherwise. */
  readonly formats: readonly string[];
  /** The lines after m=, in order. */
  readonly lines: readonly SdpLine[];
}

export interface Sdp {
  readonly origin: SdpOrigin;
  readonly sessionName: string;
  /** Session-level lines after s=, in order (c=, t=, a=, …). */
  readonly session: readonly SdpLine[];
  readonly media: readonly SdpMedia[];
}

/** Larger than any SIP body we accept; parsing stops here rather than chew on garbage. */
export const MAX_SDP_LENGTH = 65536;
