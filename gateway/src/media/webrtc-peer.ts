/**
 * werift's peer connection as a browser leg of the relay engine sets it up:
 * ICE-lite with exactly one host candidate on the leased port, only the call's
 * codecs, the audio transceiver of an offer, the local SDP once gathered, and
 * the ICE restart werift 0.24 does not start by itself. The transport
 * (`webrtc-transport.ts`) subscribes to its events.
 *
 * werift traps this works around (see ../shared/recipes/werift-notes.md):
 * ICE-lite so it never does its public STUN lookup; bound to the announced
 * interface so DTLS replies leave from the candidate address.
 * @internal
 */
import type { Logger } from 'pino';
import { RTCPeerConnection, RTCRtpCodecParameters, type RTCRtpTransceiver } from 'werift';
import type { AudioCodec } from './engine.js';

const GATHER_TIMEOUT_MS = 2000;

export interface PeerConnectionOptions {
  /** Address ICE binds to and announces (host candidate). */
  readonly address: string;
  /** An extra host candidate (a public address in front of `address`). */
  readonly announcedAddress?: string | undefined;
  /** The transport's leased ICE port. */
  readonly port: number;
  /** The codecs to offer or answer, the audio codec first (werift sends with the first). */
  readonly codecs: readonly AudioCodec[];
}

export function createPeerConnection(options: PeerConnectionOptions): RTCPeerConnection {
  return new RTCPeerConnection({
    iceLite: true,
    // Exactly one host candidate: the announced address, on a socket bound to
    // `address`. With interface discovery on, werift announces every other
    // interface (and drops loopback), each on a socket bound elsewhere.
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: options.address },
    iceAdditionalHostAddresses: [options.announcedAddress ?? options.address],
    // The leased port first: werift binds it at once instead of trying the range in turn.
    icePortRange: [options.port, options.port + 1],
    iceServers: [],
    codecs: {
      audio: options.codecs.map(
        (c) =>
          new RTCRtpCodecParameters({
            mimeType: `audio/${c.name}`,
            clockRate: c.clockRate,
            channels: c.channels,
            payloadType: c.payloadType,
            ...(c.fmtp ? { parameters: c.fmtp } : {}),
          }),
      ),
      video: [],
    },
  });
}

/** After the browser's offer was set: its audio, made send-and-receive; throws when it has none. */
export function answeredAudio(pc: RTCPeerConnection): RTCRtpTransceiver {
  const transceiver = pc.getTransceivers().find((t) => t.kind === 'audio');
  if (!transceiver) throw new Error('the offer has no audio');
  transceiver.setDirection('sendrecv');
  return transceiver;
}

/** The payload type the browser negotiated for telephone-event at `clockRate`, if any. */
export function telephoneEventType(
  transceiver: RTCRtpTransceiver,
  clockRate: number,
): number | undefined {
  return transceiver.codecs.find(
    (c) => c.mimeType.toLowerCase() === 'audio/telephone-event' && c.clockRate === clockRate,
  )?.payloadType;
}

/** After the browser's answer was set: the codec it chose (the first of the audio's). */
export function negotiatedCodec(pc: RTCPeerConnection): AudioCodec | undefined {
  const negotiated = pc.getTransceivers().find((t) => t.kind === 'audio')?.codecs[0];
  if (!negotiated) return undefined;
  return {
    name: negotiated.name,
    clockRate: negotiated.clockRate,
    channels: negotiated.channels ?? 1,
    payloadType: negotiated.payloadType ?? 0,
    fmtp: negotiated.parameters,
  };
}

/**
 * After an answer to an offer with new ICE credentials: werift 0.24 starts ICE
 * again only when DTLS is not connected, so after an ICE restart the DTLS
 * session goes on and the checks of the new generation would be queued and
 * never answered into a pair. This starts them (the DTLS and SRTP keys stay:
 * RFC 8842 §5, no new handshake).
 */
export function restartIce(transceiver: RTCRtpTransceiver, log: Logger): void {
  const ice = transceiver.dtlsTransport.iceTransport;
  if (ice.connection.nominated) return;
  ice.start().catch((error: unknown) => {
    log.warn({ err: error }, 'ICE restart failed');
  });
}

/** The local description's SDP once ICE gathering is complete (or after 2 s). */
export async function localSdp(pc: RTCPeerConnection): Promise<string> {
  await gathered(pc);
  const sdp = pc.localDescription?.sdp;
  if (!sdp) throw new Error('no local description');
  return sdp;
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
    pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
