/**
 * Codecs between the seam's {@link AudioCodec} (SDP's view: name, clock rate,
 * payload type) and mediasoup's RTP parameters and capabilities. The gateway
 * never transcodes: each leg is given the codec the other negotiated, so a
 * consumer only has to keep (or, for telephone-event, renumber) payload types.
 */
import type { types } from 'mediasoup';
import type { AudioCodec } from '../engine.js';

/**
 * What a call's routers carry: the codecs `calls/` bridges (Opus, PCMU, PCMA:
 * `sdp-bridge.ts` BRIDGEABLE) and RFC 4733 telephone-event at their clock rates.
 */
const ROUTER_CODECS: readonly types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000, channels: 1 },
  { kind: 'audio', mimeType: 'audio/PCMA', clockRate: 8000, channels: 1 },
  { kind: 'audio', mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1 },
  { kind: 'audio', mimeType: 'audio/telephone-event', clockRate: 48000, channels: 1 },
];

/** A codec's identity regardless of its payload type. */
export function codecKey(codec: {
  mimeType?: string;
  name?: string;
  clockRate: number;
  channels?: number | undefined;
}): string {
  const name = (codec.mimeType ?? `audio/${codec.name ?? ''}`).toLowerCase();
  return `${name}/${codec.clockRate}/${codec.channels ?? 1}`;
}

/** The payload types a leg uses, by codec. */
export type Numbering = ReadonlyMap<string, number>;

export function numberingOf(codecs: readonly AudioCodec[]): Numbering {
  return new Map(codecs.map((c) => [codecKey(c), c.payloadType]));
}

/**
 * A router's codecs numbered as a leg numbers them. A mediasoup consumer sends
 * with its router's payload types, never the receiver's, so a leg is served by
 * a router whose numbers are its own (router.ts keeps one per numbering).
 * Codecs with a number go first: mediasoup gives the others free dynamic ones.
 */
export function routerCodecs(numbering: Numbering): types.RouterRtpCodecCapability[] {
  const numbered = ROUTER_CODECS.filter((c) => numbering.has(codecKey(c))).map((c) => ({
    ...c,
    preferredPayloadType: numbering.get(codecKey(c))!,
  }));
  const rest = ROUTER_CODECS.filter((c) => !numbering.has(codecKey(c)));
  return [...numbered, ...rest];
}

/** Whether a router numbers every codec of `numbering` the same. */
export function numbersAgree(router: types.Router, numbering: Numbering): boolean {
  for (const [key, payloadType] of numbering) {
    const codec = router.rtpCapabilities.codecs?.find((c) => codecKey(c) === key);
    if (!codec || codec.preferredPayloadType !== payloadType) return false;
  }
  return true;
}

/** `a=fmtp` text → mediasoup codec parameters (numbers stay numbers, as mediasoup compares them). */
export function fmtpParameters(fmtp: string | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (!fmtp) return out;
  for (const part of fmtp.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue; // telephone-event's "0-16" is no key=value: nothing to carry
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!key) continue;
    out[key] = /^\d+$/.test(value) ? Number(value) : value;
  }
  return out;
}

function mimeType(codec: AudioCodec): string {
  return `audio/${codec.name}`;
}

/** A leg's codecs as RTP parameters (the stream a producer receives from that leg). */
export function rtpCodecs(
  codec: AudioCodec,
  telephoneEvent: AudioCodec | undefined,
): types.RtpCodecParameters[] {
  const codecs: types.RtpCodecParameters[] = [
    {
      mimeType: mimeType(codec),
      clockRate: codec.clockRate,
      channels: codec.channels,
      payloadType: codec.payloadType,
      parameters: fmtpParameters(codec.fmtp),
    },
  ];
  if (telephoneEvent) {
    codecs.push({
      mimeType: 'audio/telephone-event',
      clockRate: telephoneEvent.clockRate,
      channels: 1,
      payloadType: telephoneEvent.payloadType,
    });
  }
  return codecs;
}

/**
 * What a leg receives, as capabilities for a consumer on it: the codec and
 * telephone-event. No header extensions: see webrtc-sdp.ts for why the
 * browser's leg negotiates none.
 */
export function legCapabilities(
  codec: AudioCodec,
  telephoneEvent: AudioCodec | undefined,
): types.RtpCapabilities {
  const codecs: types.RtpCodecCapability[] = [
    {
      kind: 'audio',
      mimeType: mimeType(codec),
      clockRate: codec.clockRate,
      channels: codec.channels,
      preferredPayloadType: codec.payloadType,
      parameters: fmtpParameters(codec.fmtp),
      rtcpFeedback: [],
    },
  ];
  if (telephoneEvent) {
    codecs.push({
      kind: 'audio',
      mimeType: 'audio/telephone-event',
      clockRate: telephoneEvent.clockRate,
      channels: 1,
      preferredPayloadType: telephoneEvent.payloadType,
      rtcpFeedback: [],
    });
  }
  return { codecs, headerExtensions: [] };
}

/** Whether mediasoup's router can carry this codec (the ones `calls/` bridges). */
export function isRoutable(codec: AudioCodec): boolean {
  return ROUTER_CODECS.some((c) => codecKey(c) === codecKey(codec));
}

/**
 * How Chrome (and Edge, Safari: libwebrtc) number the codecs of their offer:
 * Opus 111, PCMU 0, PCMA 8, telephone-event 126 (8 kHz) and 110 (48 kHz).
 */
export const BROWSER_NUMBERING: readonly AudioCodec[] = [
  { name: 'opus', clockRate: 48000, channels: 2, payloadType: 111 },
  { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 },
  { name: 'PCMA', clockRate: 8000, channels: 1, payloadType: 8 },
  { name: 'telephone-event', clockRate: 8000, channels: 1, payloadType: 126 },
  { name: 'telephone-event', clockRate: 48000, channels: 1, payloadType: 110 },
];
