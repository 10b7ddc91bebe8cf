/**
 * SDP between the two legs of a call: each side sees only the gateway's media
 * address (topology hiding), codecs pass through unchanged (no transcoding).
 */
import {
  continueOrigin,
  formatSdp,
  mediaEndpoint,
  parseSdp,
  rewriteEndpoint,
  type PlainRtpTransport,
  type Sdp,
  type SdpEndpoint,
} from '../media/index.js';

export interface LegSdp {
  /** The parsed SDP the peer sent. */
  readonly sdp: Sdp;
  /** Index of the audio section. */
  readonly audio: number;
  readonly endpoint: SdpEndpoint;
}

/** Parses a peer's SDP and finds its audio stream; undefined when there is none. */
export function readLegSdp(body: Buffer | string): LegSdp | undefined {
  try {
    const sdp = parseSdp(typeof body === 'string' ? body : body.toString('utf8'));
    const audio = sdp.media.findIndex((m) => m.media === 'audio');
    const endpoint = audio >= 0 ? mediaEndpoint(sdp, audio) : undefined;
    return endpoint ? { sdp, audio, endpoint } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The SDP to send to the other leg: the audio section pointed at our transport
 * for that leg, every other section rejected (port 0: we only relay audio),
 * and the o= line continued from what we sent on that leg before (RFC 3264 §8).
 */
export function relaySdp(from: LegSdp, via: PlainRtpTransport, previous: Sdp | undefined): Sdp {
  let sdp = rewriteEndpoint(from.sdp, from.audio, {
    address: via.localAddress,
    rtpPort: via.rtpPort,
    rtcpPort: via.rtcpPort,
  });
  sdp = {
    ...sdp,
    media: sdp.media.map((m, i) => (i === from.audio ? m : { ...m, port: 0 })),
  };
  return continueOrigin(previous, sdp);
}

export const sdpText = (sdp: Sdp): string => formatSdp(sdp);

/** Points a transport at where the peer says it receives. */
export function aim(transport: PlainRtpTransport, leg: LegSdp): void {
  if (leg.endpoint.rtpPort === 0) return;
  transport.setRemote({
    address: leg.endpoint.address,
    rtpPort: leg.endpoint.rtpPort,
    rtcpPort: leg.endpoint.rtcpPort,
  });
}
