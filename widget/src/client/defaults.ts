/** Defaults of the call stack, in one place. */

/** SIP domain of the request URI when the element names none. */
export const DEFAULT_DOMAIN = 'parley.invalid';

/**
 * Longest wait for ICE candidates before the INVITE goes out. The gateway is
 * ICE-lite and learns our address from our checks, so one host candidate (or
 * none) is enough; gathering normally ends on the first candidate.
 */
export const ICE_GATHERING_TIMEOUT_MS = 500;

/**
 * Longest wait for the SIP WebSocket to open. sip.js's own connection timeout
 * relies on a close event that a blocked socket (a page's CSP forbidding the
 * gateway, some proxies) never fires, which would leave the call "connecting"
 * for ever.
 */
export const CONNECT_TIMEOUT_MS = 10_000;

/** How long a hang-up waits for the final response to a CANCEL before the WebSocket closes. */
export const HANGUP_GRACE_MS = 2000;

/** Queue names go into the SIP request URI's user part: keep to unreserved characters. */
export const QUEUE_PATTERN = /^[A-Za-z0-9._~-]{1,64}$/;
/** A marketplace impression reference (`im_….<seal>`, or a bare id): safe in a SIP header value. */
export const IMPRESSION_PATTERN = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})?$/;

/** The gateway's rebind key for a dropped WebSocket (gateway/src/calls/rebind.ts). */
export const REBIND_HEADER = 'X-Parley-Rebind';
