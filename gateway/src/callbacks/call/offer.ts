/**
 * The SDP offers of a callback's legs. The gateway places both calls itself,
 * so it writes both offers: the customer is offered the trunk's codecs (and
 * telephone-event, for the "press 1"), the advertiser only the codec and
 * payload numbers the customer answered with, so that their media passes
 * through the relay without transcoding or renumbering.
 */
import type { AudioCodec, PlainRtpTransport } from '../../media/index.js';

/** G.711 and telephone-event (RFC 4733) at 8 kHz, with their static / usual numbers. */
const STATIC: Record<string, AudioCodec> = {
  PCMU: { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 },
  PCMA: { name: 'PCMA', clockRate: 8000, channels: 1, payloadType: 8 },
};
export const TELEPHONE_EVENT: AudioCodec = {
  name: 'telephone-event',
  clockRate: 8000,
  channels: 1,
  payloadType: 101,
  fmtp: '0-16',
};

/** The trunk's codecs (`PCMU`, `PCMA`) with telephone-event. */
export function trunkCodecs(names: readonly string[]): AudioCodec[] {
  const codecs = names.flatMap((n) => (STATIC[n.toUpperCase()] ? [STATIC[n.toUpperCase()]!] : []));
  return [...codecs, TELEPHONE_EVENT];
}

/** A plain RTP/AVP offer of `codecs` (in order) on `transport`. */
export function plainOffer(
  transport: PlainRtpTransport,
  codecs: readonly AudioCodec[],
  sessionId: string,
): string {
  const lines = [
    'v=0',
    `o=parley ${sessionId} 1 IN IP4 ${transport.localAddress}`,
    's=parley',
    `c=IN IP4 ${transport.localAddress}`,
    't=0 0',
    `m=audio ${transport.rtpPort} RTP/AVP ${codecs.map((c) => c.payloadType).join(' ')}`,
  ];
  for (const c of codecs) {
    lines.push(
      `a=rtpmap:${c.payloadType} ${c.name}/${c.clockRate}${c.channels > 1 ? `/${c.channels}` : ''}`,
    );
    if (c.fmtp) lines.push(`a=fmtp:${c.payloadType} ${c.fmtp}`);
  }
  lines.push('a=ptime:20', 'a=sendrecv', '');
  return lines.join('\r\n');
}
