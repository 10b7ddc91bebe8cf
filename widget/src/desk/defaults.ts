/** Defaults of the agent desk, in one place. */

/** Where the desk API lives, relative to the page (`/desk`). */
export const DESK_API_PATH = '/desk/api/';

/** Recent calls listed on the desk. */
export const RECENT_CALLS_LIMIT = 20;

/**
 * Longest wait for ICE candidates before the answer goes out. The gateway is
 * ICE-lite and learns the browser's address from its connectivity checks, so
 * gathering ends on the first candidate (as in the widget, `../client/defaults.ts`).
 */
export const ICE_GATHERING_TIMEOUT_MS = 500;

/** REGISTER expiry asked of the gateway's registrar (sip.js refreshes before it lapses). */
export const REGISTER_EXPIRES_SECONDS = 300;

/** How long the summary of an ended call stays on the desk. */
export const ENDED_SUMMARY_MS = 8000;

/** Entries kept in a call's chat panel. */
export const CHAT_HISTORY = 500;

/** Longest wait for the softphone's WebSocket to open before retrying (see the widget's own). */
export const CONNECT_TIMEOUT_MS = 10_000;
