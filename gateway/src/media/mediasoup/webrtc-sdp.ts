/**
 * SDP for a browser leg terminated by mediasoup: the browser's offer or answer
 * read with `sdp-transform` (a maintained parser), and ours written from the
 * WebRtcTransport's own parameters (ICE-lite, its candidates, its DTLS
 * fingerprints), one BUNDLE transport for audio and the data channel (RFC
 * 8843, RFC 8841). Only what the gateway terminates is answered; any other
 * section is rejected with port 0 (RFC 3264 §6).
 *
 * No RTP header extension is negotiated, on purpose. Our SDP is written before
 * the consumer of the other leg's audio exists, so it cannot name that
 * stream's SSRC (`a=ssrc`), and mediasoup writes the MID extension only into
 * packets whose source carried it, which a SIP phone's never do. Without a
 * negotiated MID, a browser demultiplexes the bundle by payload type (the
 * audio m-line's are its own; libwebrtc enables payload-type demuxing exactly
 * when MID is missing) and takes the unsignalled SSRC. The browser's own
 * stream is known by the `a=ssrc` of its offer or answer.
 */
import sdpTransform from 'sdp-transform';
import type { types } from 'mediasoup';
import { ParleyError } from '@parley/shared/errors';
import type { AudioCodec } from '../engine.js';

/** The maximum SCTP message size both sides agree on (RFC 8841 §6); mediasoup's default. */
export const MAX_MESSAGE_SIZE = 262144;
/** RFC 8841 §5: the SCTP port; browsers and mediasoup use 5000. */
const SCTP_PORT = 5000;

export type DtlsSetup = 'actpass' | 'active' | 'passive';

export interface BrowserAudio {
  readonly mid: string;
  readonly codecs: readonly AudioCodec[];
  readonly ssrc: number | undefined;
  readonly cname: string | undefined;
  /** False when the browser only receives (`a=recvonly` or `a=inactive`): it has no stream to produce. */
  readonly sends: boolean;
}

export interface BrowserDescription {
  readonly sections: readonly {
    readonly type: string;
    readonly protocol: string;
    readonly payloads: string;
    readonly mid: string | undefined;
  }[];
  readonly audio: BrowserAudio | undefined;
  /** The data channel section (SCTP over DTLS), if any. */
  readonly data: { readonly mid: string } | undefined;
  readonly setup: DtlsSetup;
  readonly fingerprint: types.DtlsFingerprint;
}

/** What our side of the SDP is made from: the WebRtcTransport's parameters. */
export interface LocalParameters {
  readonly ice: types.IceParameters;
  readonly candidates: readonly types.IceCandidate[];
  readonly fingerprints: readonly types.DtlsFingerprint[];
}

/** Reads a browser's offer or answer; a clear `offer_required` error when it is not one we can take. */
export function readBrowserSdp(text: string): BrowserDescription {
  let session: sdpTransform.SessionDescription;
  try {
    session = sdpTransform.parse(text);
  } catch (error) {
    throw new ParleyError('offer_required', `unreadable SDP: ${(error as Error).message}`);
  }
  const media = session.media ?? [];
  const fingerprint = media.find((m) => m.fingerprint)?.fingerprint ?? session.fingerprint;
  if (!fingerprint) throw new ParleyError('offer_required', 'the SDP has no DTLS fingerprint');
  const algorithm = fingerprint.type.toLowerCase() as types.FingerprintAlgorithm;
  const setup = (media.find((m) => m.setup)?.setup ?? session.setup ?? 'actpass') as DtlsSetup;
  if (!['actpass', 'active', 'passive'].includes(setup)) {
    throw new ParleyError('offer_required', `unsupported DTLS setup: ${setup}`);
  }
  const audioSection = media.find((m) => m.type === 'audio' && m.port !== 0);
  let audio: BrowserAudio | undefined;
  if (audioSection) {
    const codecs: AudioCodec[] = audioSection.rtp.map((r) => ({
      name: r.codec,
      clockRate: r.rate ?? 8000,
      channels: r.encoding ?? 1,
      payloadType: r.payload,
      fmtp: audioSection.fmtp.find((f) => f.payload === r.payload)?.config,
    }));
    const ssrcLine = audioSection.ssrcs?.find((s) => s.attribute === 'cname');
    audio = {
      mid: audioSection.mid ?? '0',
      codecs,
      ssrc: ssrcLine ? Number(ssrcLine.id) : audioSection.ssrcs?.[0]?.id,
      cname: ssrcLine?.value,
      sends: audioSection.direction !== 'recvonly' && audioSection.direction !== 'inactive',
    };
  }
  const dataSection = media.find(
    (m) => m.type === 'application' && m.port !== 0 && /DTLS\/SCTP/.test(m.protocol),
  );
  return {
    sections: media.map((m) => ({
      type: m.type,
      protocol: m.protocol,
      payloads: m.payloads ?? '',
      mid: m.mid,
    })),
    audio,
    data: dataSection ? { mid: dataSection.mid ?? '1' } : undefined,
    setup,
    fingerprint: { algorithm, value: fingerprint.hash },
  };
}

/** The DTLS role mediasoup must be told the browser has, given the setup we answered. */
export function remoteDtlsRole(ourSetup: 'active' | 'passive'): types.DtlsRole {
  return ourSetup === 'passive' ? 'client' : 'server';
}

function transportAttributes(local: LocalParameters, setup: DtlsSetup) {
  const fingerprint =
    local.fingerprints.find((f) => f.algorithm === 'sha-256') ?? local.fingerprints[0];
  if (!fingerprint) throw new ParleyError('internal', 'the transport has no DTLS fingerprint');
  const first = local.candidates[0];
  if (!first) throw new ParleyError('internal', 'the transport has no ICE candidate');
  return {
    port: first.port,
    connection: { version: first.address.includes(':') ? 6 : 4, ip: first.address },
    iceUfrag: local.ice.usernameFragment,
    icePwd: local.ice.password,
    fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
    setup,
    candidates: local.candidates.map((c) => ({
      foundation: c.foundation,
      component: 1,
      transport: c.protocol,
      priority: c.priority,
      ip: c.address,
      port: c.port,
      type: c.type,
      ...(c.tcpType ? { tcptype: c.tcpType } : {}),
    })),
    endOfCandidates: 'end-of-candidates' as const,
  };
}

function audioSection(
  mid: string,
  codecs: readonly AudioCodec[],
  attributes: ReturnType<typeof transportAttributes>,
): sdpTransform.MediaDescription {
  return {
    type: 'audio',
    protocol: 'UDP/TLS/RTP/SAVPF',
    payloads: codecs.map((c) => c.payloadType).join(' '),
    ...attributes,
    mid,
    direction: 'sendrecv',
    rtcpMux: 'rtcp-mux',
    rtcpRsize: 'rtcp-rsize',
    rtp: codecs.map((c) => ({
      payload: c.payloadType,
      codec: c.name,
      rate: c.clockRate,
      ...(c.channels > 1 ? { encoding: c.channels } : {}),
    })),
    fmtp: codecs.flatMap((c) =>
      c.fmtp
        ? [{ payload: c.payloadType, config: c.fmtp }]
        : c.name.toLowerCase() === 'telephone-event'
          ? [{ payload: c.payloadType, config: '0-16' }]
          : [],
    ),
  };
}

function session(
  sessionId: string,
  media: sdpTransform.MediaDescription[],
): sdpTransform.SessionDescription {
  const bundled = media.filter((m) => m.port !== 0 && m.mid !== undefined).map((m) => m.mid);
  return {
    version: 0,
    origin: {
      username: 'parley',
      sessionId,
      sessionVersion: 1,
      netType: 'IN',
      ipVer: 4,
      address: '127.0.0.1',
    },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    msidSemantic: { semantic: 'WMS', token: '*' },
    ...(bundled.length > 0 ? { groups: [{ type: 'BUNDLE', mids: bundled.join(' ') }] } : {}),
    media,
  };
}

/**
 * Our answer to a browser's offer: exactly `codec` (and telephone-event with
 * the browser's own number for it, when `telephoneEvent` is given and the
 * browser offered that clock rate), the data channel if offered, everything
 * else rejected. `setup` is our DTLS role.
 */
export function answerSdp(options: {
  readonly offer: BrowserDescription;
  readonly local: LocalParameters;
  readonly codec: AudioCodec;
  readonly browserTelephoneEvent: AudioCodec | undefined;
  readonly setup: 'active' | 'passive';
  readonly sessionId: string;
}): string {
  const { offer, codec } = options;
  const attributes = transportAttributes(options.local, options.setup);
  const media = offer.sections.map((section): sdpTransform.MediaDescription => {
    const mid = section.mid;
    if (offer.audio && section.type === 'audio' && mid === offer.audio.mid) {
      const codecs = [
        codec,
        ...(options.browserTelephoneEvent ? [options.browserTelephoneEvent] : []),
      ];
      return audioSection(mid, codecs, attributes);
    }
    if (offer.data && section.type === 'application' && mid === offer.data.mid) {
      return {
        type: 'application',
        protocol: 'UDP/DTLS/SCTP',
        payloads: 'webrtc-datachannel',
        ...attributes,
        mid,
        sctpPort: SCTP_PORT,
        maxMessageSize: MAX_MESSAGE_SIZE,
      } as sdpTransform.MediaDescription;
    }
    return {
      type: section.type,
      port: 0,
      protocol: section.protocol,
      payloads: section.payloads,
      ...(mid === undefined ? {} : { mid }),
    } as sdpTransform.MediaDescription;
  });
  return sdpTransform.write(session(options.sessionId, media));
}

/** Our offer to a browser (the agent desk's softphone): audio only, these codecs, DTLS actpass. */
export function offerSdp(options: {
  readonly local: LocalParameters;
  readonly codecs: readonly AudioCodec[];
  readonly sessionId: string;
}): string {
  const attributes = transportAttributes(options.local, 'actpass');
  return sdpTransform.write(
    session(options.sessionId, [audioSection('0', options.codecs, attributes)]),
  );
}
