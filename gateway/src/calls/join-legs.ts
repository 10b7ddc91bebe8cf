/**
 * How an agent's leg is joined to the caller's, without transcoding:
 *
 * - answered: a browser on either side gets exactly the codec the other
 *   answered with (werift answers with one codec); two plain RTP legs pass
 *   their SDP through the relay. When the gateway had answered the caller
 *   itself, the agent was offered that codec only and must have kept it.
 * - early media: a SIP agent's 183 with SDP (a PBX's ringback or announcement,
 *   a phone agent's carrier) reaches the caller while that agent alone rings,
 *   also when the gateway answered the caller early (its 180 becomes 183).
 */
import type { InboundLeg } from './inbound-leg.js';
import type { OutboundLeg } from './outbound-leg.js';
import { chosenCodec, pickCodec, sameCodec, type ChosenCodec, type LegSdp } from './sdp-bridge.js';

export interface JoinContext {
  readonly caller: InboundLeg;
  /** The codec the gateway answered the caller with itself, if it did. */
  readonly gatewayCodec: ChosenCodec | undefined;
  /** That answer is made (its SDP sent): false when it failed (the call ends). */
  readonly gatewayMade: () => Promise<boolean>;
  readonly bridge: (a: InboundLeg, b: OutboundLeg) => void;
  /** The call ended meanwhile. */
  readonly gone: () => boolean;
}

/**
 * Joins an agent's answered leg to the caller's: takes the agent's answer,
 * answers the caller (200) with what fits, and bridges their media. `codec`
 * when the answer cannot be bridged without transcoding.
 */
export async function joinAnswered(
  context: JoinContext,
  agent: OutboundLeg,
): Promise<'joined' | 'codec' | 'gone'> {
  const { caller, gatewayCodec } = context;
  const chosen = await agent.acceptAnswer();
  // An agent who answered before the gateway's early answer was made waits for it: the
  // caller's leg is bridged and answered (200, that answer's SDP) only once it is whole.
  if (gatewayCodec && !(await context.gatewayMade())) return 'gone';
  if (context.gone()) return 'gone'; // the caller gave up meanwhile
  const oneCodec = caller.webrtc || agent.media?.kind === 'webrtc';
  // A browser answered in an early-media 183 keeps that codec (werift answers once).
  const kept = gatewayCodec ?? caller.fixedCodec;
  const fits = kept ? sameCodec(chosen, kept) : !oneCodec || chosen !== undefined;
  const answerSdp = agent.answerSdp;
  if (!fits || !answerSdp) return 'codec';
  if (!gatewayCodec) {
    // The caller gets exactly the agent's codec (no transcoding), or a plain caller the agent's SDP.
    const answer = chosen && oneCodec ? { codec: chosen } : { relay: answerSdp };
    if (!(await caller.prepareAnswer(answer)) || context.gone()) return 'gone';
  }
  context.bridge(caller, agent);
  caller.answer();
  return 'joined';
}

/**
 * A 183 with SDP from a SIP agent (a PBX's ringback or announcement, a phone
 * agent's carrier) is early media: with this one agent ringing, the relay
 * joins the legs now and the caller gets a 183 with our SDP. A browser is
 * answered there once (werift answers an offer once), with the codec of the
 * agent's early SDP, which the agent's 200 must keep (`joinAnswered`). A desk
 * softphone's legs and forked rings get a plain 180. True when handled here.
 */
export function passEarlyMedia(
  context: JoinContext,
  agent: OutboundLeg,
  early: LegSdp,
  ringingLegs: number,
): boolean {
  const { caller } = context;
  if (agent.media?.kind === 'webrtc' || ringingLegs !== 1) return false;
  let answer: { codec: ChosenCodec } | { relay: LegSdp } = { relay: early };
  if (caller.webrtc) {
    const codec = chosenCodec(early);
    // Only a codec the browser offered (it always offers PCMU and PCMA beside Opus), and
    // the one it was answered with if an earlier agent's early media answered it.
    if (!codec || !pickCodec(caller.offer, codec.codec.name)) return false;
    if (caller.fixedCodec && !sameCodec(codec, caller.fixedCodec)) return false;
    answer = { codec };
  }
  agent.aimAt(early);
  // A browser's transport is bridged once answered (as joinAnswered does), a plain one at once.
  if (!caller.webrtc) context.bridge(caller, agent);
  caller
    .prepareAnswer(answer)
    .then((ok) => {
      // Answered meanwhile (joinAnswered bridges it), or it failed or was cancelled (its
      // transport closed): no early media.
      if (!ok || context.gone() || agent.state !== 'early') return;
      if (caller.webrtc) context.bridge(caller, agent);
      caller.earlyMedia();
    })
    // No early media (the answer could not be made, or the leg closed as it was bridged):
    // a browser's failed answer is tried again when an agent answers (`prepareAnswer`).
    .catch(() => undefined);
  return true;
}

/**
 * A SIP agent's 183 with SDP when the gateway answered the caller early (a
 * 180 with SDP, `early-answer.ts`): the caller's answer is made already and
 * the agent was offered its codec alone, so the legs are bridged now. True
 * when bridged; not for a desk softphone, forked rings, or another codec.
 */
export function passEarlyMediaAnswered(
  context: JoinContext,
  agent: OutboundLeg,
  early: LegSdp,
  ringingLegs: number,
): boolean {
  const { caller, gatewayCodec } = context;
  if (agent.media?.kind === 'webrtc' || ringingLegs !== 1 || !gatewayCodec) return false;
  const codec = chosenCodec(early);
  if (!codec || !sameCodec(codec, gatewayCodec) || context.gone()) return false;
  agent.aimAt(early);
  context.bridge(caller, agent);
  return true;
}

/** `work`, or a rejection with `message` after `ms`. */
export async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
