/**
 * SDP between the two legs of a call: each side sees only the gateway's media
 * address (topology hiding), codecs pass through unchanged (no transcoding).
 */
import {
  continueOrigin,
  direction,
  formatSdp,
  mediaEndpoint,
  parseSdp,
  rewriteEndpoint,
  setDirection,
  type AudioCodec,
  type PlainRtpTransport,
  type Sdp,
  type SdpCodec,
  type SdpDirection,
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

/** A browser's offer (ICE, DTLS-SRTP): the leg is terminated by a WebRTC transport. */
export function isWebRtcOffer(leg: LegSdp): boolean {
  const proto = leg.sdp.media[leg.audio]?.proto ?? '';
  return /TLS|SAVP/.test(proto);
}

const BRIDGEABLE = ['opus', 'PCMU', 'PCMA'];
const isBridgeable = (c: SdpCodec) =>
  BRIDGEABLE.some((name) => name.toLowerCase() === c.name.toLowerCase());
const toCodec = (c: SdpCodec): AudioCodec => ({
  name: c.name,
  clockRate: c.clockRate,
  channels: c.channels,
  payloadType: c.pt,
  fmtp: c.fmtp,
});

/** The audio codecs of an offer the gateway can pass through without transcoding, in its order. */
export function bridgeableCodecs(leg: LegSdp): AudioCodec[] {
  return leg.endpoint.codecs.filter(isBridgeable).map(toCodec);
}

/**
 * Our answer to a plain SIP visitor when the agent is a browser: the codec the
 * agent chose (same payload type: we offered the visitor's numbers), and
 * telephone-event at its clock rate if the visitor offered it.
 */
export function plainAnswer(
  offer: LegSdp,
  codec: AudioCodec,
  via: PlainRtpTransport,
  sessionId: string,
): Sdp {
  const te = offer.endpoint.codecs.find(
    (c) => c.name.toLowerCase() === 'telephone-event' && c.clockRate === codec.clockRate,
  );
  const direction = {
    sendonly: 'recvonly',
    recvonly: 'sendonly',
    inactive: 'inactive',
    sendrecv: 'sendrecv',
  }[offer.endpoint.direction];
  const lines = [
    'v=0',
    `o=parley ${sessionId} 1 IN IP4 ${via.localAddress}`,
    's=parley',
    `c=IN IP4 ${via.localAddress}`,
    't=0 0',
    ...offer.sdp.media.map((m, i) =>
      i === offer.audio
        ? `m=audio ${via.rtpPort} RTP/AVP ${codec.payloadType}${te ? ` ${te.pt}` : ''}`
        : `m=${m.media} 0 ${m.proto} ${m.formats.join(' ')}`,
    ),
  ];
  // Attributes belong to the audio section, which is the one that follows its m= line.
  const audioAt = lines.findIndex((l) => l.startsWith(`m=audio ${via.rtpPort}`));
  lines.splice(
    audioAt + 1,
    0,
    `a=rtpmap:${codec.payloadType} ${codec.name}/${codec.clockRate}${codec.channels > 1 ? `/${codec.channels}` : ''}`,
    ...(codec.fmtp ? [`a=fmtp:${codec.payloadType} ${codec.fmtp}`] : []),
    ...(te ? [`a=rtpmap:${te.pt} telephone-event/${te.clockRate}`, `a=fmtp:${te.pt} 0-16`] : []),
    `a=${direction ?? 'sendrecv'}`,
  );
  return parseSdp([...lines, ''].join('\r\n'));
}

/**
 * The offer for the agent leg of a browser call: a plain RTP/AVP offer with the
 * browser's codecs the gateway can bridge without transcoding (Opus, PCMU,
 * PCMA, in the browser's order and with its payload types) and telephone-event.
 * With `only`, just that codec and its telephone-event: the caller's leg was
 * answered with it already (see {@link offeredCodecs}).
 */
export function agentOfferFromBrowser(
  browser: LegSdp,
  via: PlainRtpTransport,
  sessionId: string,
  version: number,
  only?: ChosenCodec,
): Sdp {
  const codecs = only
    ? restrictTo(browser, only)
    : browser.endpoint.codecs.filter(
        (c) => isBridgeable(c) || c.name.toLowerCase() === 'telephone-event',
      );
  const lines = [
    'v=0',
    `o=parley ${sessionId} ${version} IN IP4 ${via.localAddress}`,
    's=parley',
    `c=IN IP4 ${via.localAddress}`,
    't=0 0',
    `m=audio ${via.rtpPort} RTP/AVP ${codecs.map((c) => c.pt).join(' ')}`,
    ...codecs.flatMap((c) => [
      `a=rtpmap:${c.pt} ${c.name}/${c.clockRate}${c.channels > 1 ? `/${c.channels}` : ''}`,
      ...(c.fmtp
        ? [`a=fmtp:${c.pt} ${c.fmtp}`]
        : c.name.toLowerCase() === 'telephone-event'
          ? [`a=fmtp:${c.pt} 0-16`]
          : []),
    ]),
    'a=ptime:20',
    'a=sendrecv',
    '',
  ];
  return parseSdp(lines.join('\r\n'));
}

/** A codec a leg settled on, with the telephone-event (RFC 4733) at its clock rate when there is one. */
export interface ChosenCodec {
  readonly codec: AudioCodec;
  readonly telephoneEvent: AudioCodec | undefined;
}

/** The codec the agent answered with (its first bridgeable one) and the matching telephone-event. */
export function chosenCodec(answer: LegSdp): ChosenCodec | undefined {
  const codecs = answer.endpoint.codecs;
  const first = codecs.find(isBridgeable);
  if (!first) return undefined;
  const te = codecs.find(
    (c) => c.name.toLowerCase() === 'telephone-event' && c.clockRate === first.clockRate,
  );
  return { codec: toCodec(first), telephoneEvent: te ? toCodec(te) : undefined };
}

/** Our answer to a re-INVITE we handle locally (hold/resume on a leg whose peer cannot renegotiate). */
export function localAnswer(offer: LegSdp, via: PlainRtpTransport, previous: Sdp | undefined): Sdp {
  const mirrored: Record<string, string> = {
    sendonly: 'recvonly',
    recvonly: 'sendonly',
    inactive: 'inactive',
    sendrecv: 'sendrecv',
  };
  const base = previous ?? relaySdp(offer, via, undefined);
  const direction = mirrored[offer.endpoint.direction] ?? 'sendrecv';
  return continueOrigin(previous, setDirection(base, direction as SdpDirection, offer.audio));
}

/**
 * The direction a peer's offer asks for its audio: a=sendonly/inactive, or the
 * old hold of RFC 2543 (c=0.0.0.0, RFC 3264 §8.4) read as inactive.
 */
export function offerDirection(leg: LegSdp): SdpDirection {
  if (leg.endpoint.address === '0.0.0.0') return 'inactive';
  return direction(leg.sdp, leg.audio);
}

/**
 * The gateway's own choice for a leg it answers itself (before any agent):
 * `name` (PCMU, PCMA, opus) as the offer numbers it, with the offer's
 * telephone-event at the same clock rate. Undefined when the offer lacks it.
 */
export function pickCodec(offer: LegSdp, name: string): ChosenCodec | undefined {
  const codecs = offer.endpoint.codecs;
  const found = codecs.find((c) => c.name.toLowerCase() === name.toLowerCase() && isBridgeable(c));
  if (!found) return undefined;
  const te = codecs.find(
    (c) => c.name.toLowerCase() === 'telephone-event' && c.clockRate === found.clockRate,
  );
  return { codec: toCodec(found), telephoneEvent: te ? toCodec(te) : undefined };
}

/** Whether an answer kept the codec a leg already uses (name and clock rate). */
export function sameCodec(a: ChosenCodec | undefined, b: ChosenCodec | undefined): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.codec.name.toLowerCase() === b.codec.name.toLowerCase() &&
    a.codec.clockRate === b.codec.clockRate
  );
}

/**
 * The codecs to offer the next leg: those of the caller's offer the gateway
 * can bridge, or only the one (and its telephone-event) the caller's leg uses
 * already when the gateway answered it itself.
 */
export function offeredCodecs(offer: LegSdp, only?: ChosenCodec): AudioCodec[] {
  if (!only) return bridgeableCodecs(offer);
  return [only.codec, ...(only.telephoneEvent ? [only.telephoneEvent] : [])];
}

/** The offer's lines for `only` (its codec and telephone-event), with the offer's numbers. */
function restrictTo(offer: LegSdp, only: ChosenCodec): SdpCodec[] {
  const wanted = [only.codec.payloadType, only.telephoneEvent?.payloadType];
  return offer.endpoint.codecs.filter((c) => wanted.includes(c.pt));
}

/**
 * The offer for the next leg of a plain SIP caller: the caller's own offer
 * pointed at our transport ({@link relaySdp}), or, when the gateway answered the
 * caller with one codec, a plain offer of that codec alone.
 */
export function plainOfferFrom(
  caller: LegSdp,
  via: PlainRtpTransport,
  only: ChosenCodec | undefined,
  sessionId: string,
): Sdp {
  return only
    ? agentOfferFromBrowser(caller, via, sessionId, 1, only)
    : relaySdp(caller, via, undefined);
}
