/** What the B2BUA reads from SDP: a stream's endpoint, codecs and direction. */
import type {
  Sdp,
  SdpAddressType,
  SdpConnection,
  SdpDirection,
  SdpLine,
  SdpMedia,
} from './types.js';

export interface SdpCodec {
  readonly pt: number;
  readonly name: string;
  readonly clockRate: number;
  readonly channels: number;
  /** The a=fmtp parameters for this payload type, if any. */
  readonly fmtp: string | undefined;
}

export interface SdpEndpoint {
  /** Where the peer receives media (c= of the section, else of the session). */
  readonly address: string;
  readonly addressType: SdpAddressType;
  /** 0: the stream is rejected (or, in old offers, held with port 0). */
  readonly rtpPort: number;
  /** a=rtcp if present, else rtpPort + 1 (RFC 3550 §11); 0 when rtpPort is 0. */
  readonly rtcpPort: number;
  /** a=rtcp-mux present (RFC 5761): RTCP may share the RTP port if the answer agrees. */
  readonly rtcpMux: boolean;
  /** Effective direction (media, else session, else sendrecv; c=0.0.0.0 removes "recv"). */
  readonly direction: SdpDirection;
  readonly rejected: boolean;
  /** Numeric formats in m= order (empty for non-RTP protocols). */
  readonly payloadTypes: readonly number[];
  /** Payload types with a known encoding (a=rtpmap or the RFC 3551 static table). */
  readonly codecs: readonly SdpCodec[];
  readonly ptime: number | undefined;
}

/** RFC 3551 §6 static payload types (the ones still met in practice). */
const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, readonly [string, number, number]> = new Map([
  [0, ['PCMU', 8000, 1]],
  [3, ['GSM', 8000, 1]],
  [4, ['G723', 8000, 1]],
  [5, ['DVI4', 8000, 1]],
  [6, ['DVI4', 16000, 1]],
  [7, ['LPC', 8000, 1]],
  [8, ['PCMA', 8000, 1]],
  [9, ['G722', 8000, 1]],
  [10, ['L16', 44100, 2]],
  [11, ['L16', 44100, 1]],
  [12, ['QCELP', 8000, 1]],
  [13, ['CN', 8000, 1]],
  [15, ['G728', 8000, 1]],
  [18, ['G729', 8000, 1]],
  [26, ['JPEG', 90000, 1]],
  [31, ['H261', 90000, 1]],
  [34, ['H263', 90000, 1]],
]);

/** The media endpoint of section `index`, or undefined if there is no such section or no c=. */
export function mediaEndpoint(sdp: Sdp, index = 0): SdpEndpoint | undefined {
  const m = sdp.media[index];
  if (m === undefined) return undefined;
  const connection = effectiveConnection(sdp, m);
  if (connection === undefined) return undefined;
  const rtcpLine = m.lines.find((l) => l.kind === 'rtcp');
  const isRtp = /(^|\/)RTP\//.test(m.proto);
  const payloadTypes = isRtp
    ? m.formats.filter((f) => /^[0-9]{1,3}$/.test(f) && Number(f) <= 127).map(Number)
    : [];
  const codecs: SdpCodec[] = [];
  for (const pt of payloadTypes) {
    const rtpmap = m.lines.find((l) => l.kind === 'rtpmap' && l.pt === pt);
    const fmtp = m.lines.find((l) => l.kind === 'fmtp' && l.format === `${pt}`);
    const fmtpText = fmtp?.kind === 'fmtp' ? fmtp.parameters : undefined;
    if (rtpmap?.kind === 'rtpmap') {
      codecs.push({
        pt,
        name: rtpmap.name,
        clockRate: rtpmap.clockRate,
        channels: rtpmap.channels ?? 1,
        fmtp: fmtpText,
      });
    } else {
      const known = STATIC_PAYLOAD_TYPES.get(pt);
      if (known) {
        codecs.push({
          pt,
          name: known[0],
          clockRate: known[1],
          channels: known[2],
          fmtp: fmtpText,
        });
      }
    }
  }
  const ptime =
    m.lines.find((l) => l.kind === 'ptime') ?? sdp.session.find((l) => l.kind === 'ptime');
  return {
    address: connection.address,
    addressType: connection.addressType,
    rtpPort: m.port,
    rtcpPort: rtcpLine?.kind === 'rtcp' ? rtcpLine.port : m.port === 0 ? 0 : m.port + 1,
    rtcpMux: m.lines.some((l) => l.kind === 'attribute' && l.name === 'rtcp-mux'),
    direction: direction(sdp, index),
    rejected: m.port === 0,
    payloadTypes,
    codecs,
    ptime: ptime?.kind === 'ptime' ? ptime.ms : undefined,
  };
}

function effectiveConnection(sdp: Sdp, m: SdpMedia | undefined): SdpConnection | undefined {
  const own = m?.lines.find((l) => l.kind === 'connection');
  if (own?.kind === 'connection') return own.connection;
  const session = sdp.session.find((l) => l.kind === 'connection');
  return session?.kind === 'connection' ? session.connection : undefined;
}

/**
 * RFC 2543 hold: c=0.0.0.0 (RFC 3264 §8.4 keeps it recognisable; we also accept ::).
 * Not when the section uses ICE: there 0.0.0.0 (port 9) is the placeholder of an
 * offer whose candidates trickle later (RFC 8840 §4.2), as browsers send it.
 */
export function isOldHold(sdp: Sdp, m: SdpMedia | undefined): boolean {
  const address = effectiveConnection(sdp, m)?.address;
  if (address !== '0.0.0.0' && address !== '::') return false;
  const usesIce = (lines: readonly SdpLine[] | undefined): boolean =>
    lines?.some(
      (l) => l.kind === 'attribute' && (l.name === 'ice-ufrag' || l.name === 'candidate'),
    ) ?? false;
  return !usesIce(m?.lines) && !usesIce(sdp.session);
}

function findDirection(lines: readonly SdpLine[] | undefined): SdpDirection | undefined {
  const line = lines?.find((l) => l.kind === 'direction');
  return line?.kind === 'direction' ? line.direction : undefined;
}

/**
 * The effective direction of media section `index` (media attribute, else
 * session attribute, else sendrecv). The old hold form c=0.0.0.0 (without ICE)
 * means "do not send to me", so it removes "recv": sendrecv → sendonly,
 * recvonly → inactive.
 */
export function direction(sdp: Sdp, index = 0): SdpDirection {
  const m = sdp.media[index];
  const declared = findDirection(m?.lines) ?? findDirection(sdp.session) ?? 'sendrecv';
  if (!isOldHold(sdp, m)) return declared;
  return declared === 'sendrecv' ? 'sendonly' : declared === 'recvonly' ? 'inactive' : declared;
}
