/**
 * RTP packets as media applications see them (RFC 3550 §5.1): the header
 * fields parsed, the payload a view into the received buffer. Parsing is only
 * done where an application listens; the relay itself never parses.
 */

/** One RTP packet. `payload` is a view: copy it to keep it past the event that carried it. */
export interface RtpPacketView {
  readonly payloadType: number;
  readonly marker: boolean;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly payload: Buffer;
}

/** A packet an application sends; the stream it joins sets sequence number and SSRC. */
export interface OutgoingRtp {
  readonly payloadType: number;
  readonly marker: boolean;
  /** In the application's own timeline (clock-rate units); the stream maps it onto the leg's. */
  readonly timestamp: number;
  readonly payload: Buffer;
}

export const RTP_HEADER_LENGTH = 12;

/**
 * Parses an RTP packet; undefined for RTCP (RFC 5761 §4 packet types 192-223
 * share the socket with rtcp-mux), a wrong version or a truncated packet.
 * CSRCs, a header extension (§5.3.1) and padding (§5.1 P bit) are skipped.
 */
export function parseRtp(packet: Buffer): RtpPacketView | undefined {
  if (packet.length < RTP_HEADER_LENGTH) return undefined;
  const first = packet[0]!;
  const second = packet[1]!;
  if ((first & 0xc0) !== 0x80 || (second >= 192 && second <= 223)) return undefined;
  let offset = RTP_HEADER_LENGTH + (first & 0x0f) * 4;
  if (first & 0x10) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  let end = packet.length;
  if (first & 0x20) end -= packet[end - 1]!;
  if (end < offset) return undefined;
  return {
    payloadType: second & 0x7f,
    marker: (second & 0x80) !== 0,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}
