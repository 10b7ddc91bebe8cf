/**
 * What a browser leg negotiates, read from the browser's SDP (webrtc-sdp.ts):
 * the codec it answers or chose, and telephone-event at both legs' numbers.
 * The browser gets exactly the codec the agent chose, at the browser's own
 * payload type and fmtp, so nothing is transcoded.
 */
import { ParleyError } from '@parley/shared/errors';
import type { AudioCodec } from '../engine.js';
import { isRoutable } from './codecs.js';
import type { BrowserAudio } from './webrtc-sdp.js';

/** What this leg negotiated, as the router needs it to pipe. */
export interface Negotiated {
  /** The codec and telephone-event with the browser's payload types (what it sends and receives). */
  readonly codec: AudioCodec;
  readonly telephoneEvent: AudioCodec | undefined;
  /** Telephone-event with the other leg's number for it (from the agent's answer). */
  readonly peerTelephoneEvent: AudioCodec | undefined;
}

/**
 * Answering the browser's offer with the agent's `codec` (and its
 * `telephoneEvent`): the browser's own description of them.
 */
export function answerOffer(
  audio: BrowserAudio,
  codec: AudioCodec,
  telephoneEvent: AudioCodec | undefined,
): Negotiated {
  // The browser's own description of the codec (its fmtp), at the number the agent answered.
  const own = audio.codecs.find(
    (c) =>
      c.payloadType === codec.payloadType &&
      c.name.toLowerCase() === codec.name.toLowerCase() &&
      c.clockRate === codec.clockRate,
  );
  if (!own || !isRoutable(own)) {
    throw new ParleyError('offer_required', `the offer has no ${codec.name}/${codec.clockRate}`);
  }
  const browserEvent = telephoneEvent
    ? audio.codecs.find(
        (c) =>
          c.name.toLowerCase() === 'telephone-event' && c.clockRate === telephoneEvent.clockRate,
      )
    : undefined;
  return {
    codec: own,
    telephoneEvent: browserEvent,
    peerTelephoneEvent: browserEvent ? telephoneEvent : undefined,
  };
}

/** The browser's answer to our offer of `offered`: the codec it chose. */
export function acceptAnswer(
  audio: BrowserAudio | undefined,
  offered: readonly AudioCodec[],
): Negotiated {
  // The browser's first codec that we offered (same payload type: ours were echoed).
  const chosen = audio?.codecs.find((c) =>
    offered.some(
      (o) => o.payloadType === c.payloadType && o.name.toLowerCase() === c.name.toLowerCase(),
    ),
  );
  if (!audio || !chosen) throw new ParleyError('offer_required', 'no codec in common');
  return { codec: chosen, telephoneEvent: undefined, peerTelephoneEvent: undefined };
}

/** The offer's ICE username fragment (session or first media level). */
export function iceUfrag(sdp: string): string | undefined {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
}
