/**
 * Early media (issue 15 item 3). The gateway may answer the visitor's offer
 * in a provisional response while the agents ring, so that ICE and DTLS are
 * done when an agent answers (sip.js applies the first provisional answer
 * with `earlyMedia`; the gateway never forks a browser's INVITE, and its 200
 * repeats that answer). Which tone the visitor hears follows RFC 3960 §3: on
 * a 180 (with SDP or not) the widget plays its own ringback; a 183 with SDP
 * means the gateway's own media (a prompt, queue music, a carrier's ringback
 * or announcement) is what to hear: its remote stream plays from then on.
 */
import type { SipResponse } from './sip-stack.js';

/** Whether a provisional response carries the gateway's early media (the widget's own tone stops). */
export function carriesEarlyMedia(response: SipResponse): boolean {
  const { statusCode, body } = response.message;
  return statusCode === 183 && typeof body === 'string' && body.trim().length > 0;
}
