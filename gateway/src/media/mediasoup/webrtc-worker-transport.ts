/**
 * The worker's side of a browser leg: the WebRtcTransport on the worker's
 * WebRtcServer (ICE-lite, DTLS-SRTP, SCTP). Its ICE and DTLS states become the
 * leg's, its DTLS is connected with the browser's fingerprint, the browser's
 * audio becomes a producer; what the worker refuses is the offer's fault
 * (`offer_required`).
 */
import type { Logger } from 'pino';
import type { types } from 'mediasoup';
import { ParleyError } from '@parley/shared/errors';
import { rtpCodecs } from './codecs.js';
import type { Negotiated } from './webrtc-negotiation.js';
import { remoteDtlsRole, type BrowserDescription, type LocalParameters } from './webrtc-sdp.js';

export type LegState = 'connecting' | 'connected' | 'failed' | 'closed';

/** Follows the transport's DTLS and ICE states as the leg's. */
export function followStates(
  transport: types.WebRtcTransport,
  log: Logger,
  state: (state: LegState) => void,
): void {
  transport.on('dtlsstatechange', (dtls) => {
    log.debug({ state: dtls }, 'DTLS state');
    if (dtls === 'connecting') state('connecting');
    else if (dtls === 'connected') state('connected');
    else if (dtls === 'failed') state('failed');
    else if (dtls === 'closed') state('closed');
  });
  transport.on('icestatechange', (ice) => {
    log.debug({ state: ice }, 'ICE state');
    // ICE-lite: "disconnected" is the browser's consent checks stopping (RFC 7675).
    if (ice === 'disconnected') state('failed');
  });
}

/** Connects the transport's DTLS to the browser's (its fingerprint, the role our setup leaves it). */
export async function connectDtls(
  transport: types.WebRtcTransport,
  browser: BrowserDescription,
  ourSetup: 'active' | 'passive',
): Promise<void> {
  try {
    await transport.connect({
      dtlsParameters: { role: remoteDtlsRole(ourSetup), fingerprints: [browser.fingerprint] },
    });
  } catch (error) {
    throw new ParleyError(
      'offer_required',
      `DTLS parameters refused: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** The producer of the browser's audio; none when the browser only listens. */
export async function produceBrowserAudio(
  transport: types.WebRtcTransport,
  browser: BrowserDescription,
  negotiated: Negotiated,
): Promise<types.Producer | undefined> {
  const audio = browser.audio;
  // A browser that only listens (a recvonly offer) has nothing to produce.
  if (!audio || (!audio.sends && audio.ssrc === undefined)) return undefined;
  if (audio.ssrc === undefined) {
    // Browsers name their stream; without it (and without MID, see webrtc-sdp.ts) it cannot be told.
    throw new ParleyError('offer_required', 'the browser did not name its audio stream (a=ssrc)');
  }
  try {
    return await transport.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: rtpCodecs(negotiated.codec, negotiated.telephoneEvent),
        encodings: [{ ssrc: audio.ssrc }],
        rtcp: { ...(audio.cname ? { cname: audio.cname } : {}), reducedSize: true },
      },
    });
  } catch (error) {
    throw new ParleyError('offer_required', `browser audio refused: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** What our SDP is written from: the transport's ICE parameters, candidates and fingerprints. */
export function localParameters(transport: types.WebRtcTransport): LocalParameters {
  return {
    ice: transport.iceParameters,
    candidates: transport.iceCandidates,
    fingerprints: transport.dtlsParameters.fingerprints,
  };
}
