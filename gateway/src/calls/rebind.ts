/**
 * A browser visitor's call outlives its WebSocket (issue 16 item 4): the
 * widget reconnects and sends a re-INVITE within the same dialog over the new
 * connection (RFC 3261 §14; the flow changes as in RFC 5626's outbound, but a
 * visitor never registers, so the dialog itself is what is rebound). What
 * proves the new connection is the same visitor is a rebind key the gateway
 * minted for this dialog and gave only to it, in the 200 OK of the INVITE, over
 * the WebSocket its call token authenticated.
 *
 * Why not the call token again: it is single-use (the replay check would
 * refuse it a second time) and short-lived (it may expire before the call
 * does). Why not INVITE with Replaces (RFC 3891): it makes a new dialog and a
 * new peer connection (new DTLS handshake, new transport), a longer gap, and
 * sip.js has no way to move its session's media to a new Inviter.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The response header (to the INVITE) and request header (re-INVITE) carrying the key. */
export const REBIND_HEADER = 'X-Parley-Rebind';

/** 192 random bits, base64url: unguessable, safe in a header. */
export function newRebindKey(): string {
  return randomBytes(24).toString('base64url');
}

/** Whether `presented` is `key`, in constant time (digests, so lengths never leak). */
export function sameRebindKey(key: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(key).digest();
  const b = createHash('sha256').update(presented.trim()).digest();
  return timingSafeEqual(a, b);
}
