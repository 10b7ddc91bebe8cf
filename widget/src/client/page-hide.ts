/**
 * A visitor who closes the tab or leaves the page mid-call hangs up (as
 * Twilio's Voice SDK does on unload): without it the gateway sees only a
 * dropped WebSocket and holds the call for `visitors.reconnectGraceSeconds`,
 * the agent listening to silence. On `pagehide` (whether or not the page goes
 * into the back-forward cache) the active call is hung up: a BYE, or a CANCEL
 * while it rings, sent over the open WebSocket before the page goes. sip.js
 * sends either within the handler's microtasks (`Attempt.release`), before
 * the browser closes the socket.
 *
 * The listener is there only while a call is active, so the window holds no
 * idle client (nor, through it, an element that left the page).
 */
import type { CallClientApi } from '../api/call-stack.js';

/** What the window offers for `pagehide` (an EventTarget in tests). */
export type PageEvents = Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;

export function hangUpOnPageHide(client: CallClientApi, page: PageEvents): void {
  const hangup = (): void => void client.hangup();
  client.on('state', ({ state }) => {
    // `isActive` of `../api/call-state.ts`, not imported: the first load would
    // have to export it to this chunk, and it has no byte to spare.
    if (state !== 'idle' && state !== 'ended' && state !== 'error')
      page.addEventListener('pagehide', hangup);
    else page.removeEventListener('pagehide', hangup);
  });
}
