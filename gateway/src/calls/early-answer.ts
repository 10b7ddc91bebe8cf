/**
 * Audio at the agent's answer (issue 15 item 3): a browser visitor's leg is
 * answered early, while the agents ring, with a codec decided before any of
 * them answers. The browser then does ICE and DTLS during the ringing, and
 * the agent's 200 only has to be relayed (same SDP, RFC 3264 §8 allows no
 * change) for audio to flow. Agents are offered that codec alone, so none
 * can answer with another (no re-INVITE, no transcoding).
 *
 * The early answer goes in a 180 with SDP (the widget plays its own
 * ringback: RFC 3960 §3, a UA plays local ringback on 180 until early media
 * arrives, and nothing arrives before the bridge), so no media application is
 * opened on the leg (on mediasoup an endpoint would put what the browser
 * hears through Node for the rest of the call).
 */
import type { AgentPresence } from '../agents/index.js';
import type { CallerAnswer } from './call-types.js';
import type { InboundLeg } from './inbound-leg.js';
import { pickCodec } from './sdp-bridge.js';

/** `media.earlyAnswer`: off, a codec by name, or `auto` (decided per call from the queue's agents). */
export type EarlyAnswerSetting = 'off' | 'auto' | 'PCMU' | 'PCMA' | 'opus';

/** The answer for a new call, or undefined to answer with the agent's codec as before. */
export type EarlyAnswerPolicy = (
  caller: InboundLeg,
  queue: string | undefined,
) => CallerAnswer | undefined;

/**
 * `auto`: Opus when every registered agent of the queue is a desk softphone
 * (a browser: Opus end to end), else PCMU (every SIP phone and trunk has it).
 */
export function autoCodec(agents: readonly AgentPresence[]): 'opus' | 'PCMU' {
  const contacts = agents.flatMap((a) => a.contacts);
  const browsers = contacts.filter((c) => c.transport === 'WS' || c.transport === 'WSS');
  return contacts.length > 0 && browsers.length === contacts.length ? 'opus' : 'PCMU';
}

export function earlyAnswerPolicy(
  setting: EarlyAnswerSetting,
  queueAgents: (queue: string) => readonly AgentPresence[],
): EarlyAnswerPolicy | undefined {
  if (setting === 'off') return undefined;
  return (caller, queue) => {
    if (!caller.webrtc || queue === undefined) return undefined;
    const wanted = setting === 'auto' ? autoCodec(queueAgents(queue)) : setting;
    // A browser that did not offer the codec is answered the old way, never refused.
    const codec = pickCodec(caller.offer, wanted)
      ? wanted
      : pickCodec(caller.offer, 'PCMU')
        ? 'PCMU'
        : undefined;
    return codec === undefined ? undefined : { codec, early: true, ringing: true };
  };
}
