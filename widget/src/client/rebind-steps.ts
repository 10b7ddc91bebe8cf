/**
 * The reconnect loop's two steps (`reconnect.ts`) over a call's sip.js user
 * agent and session: the WebSocket again, then the rebind re-INVITE with the
 * gateway's key (`gateway/src/calls/rebind.ts`), an ICE restart when the media
 * went down too. A second drop under the re-INVITE fails that try at once.
 */
import { reasonCode } from '@parley/shared/protocol';
import { CONNECT_TIMEOUT_MS } from './defaults.js';
import { knownCode } from './failure.js';
import type { RebindOutcome, ReconnectSteps } from './reconnect.js';
import type { SipFinal, SipSession, SipUserAgent } from './sip-stack.js';
import { withTimeout } from './timeout.js';

/** What the call client's attempt shares with the steps. */
export interface RebindLink {
  /** Set once the WebSocket is up again. */
  connected: boolean;
  /** Set while a re-INVITE is out: the WebSocket dropped again under it. */
  onDrop: (() => void) | undefined;
}

export function rebindSteps(
  userAgent: SipUserAgent,
  session: SipSession,
  key: string,
  link: RebindLink,
): ReconnectSteps {
  return {
    connect: async (ms) => {
      await withTimeout(
        userAgent.reconnect(),
        Math.min(ms, CONNECT_TIMEOUT_MS),
        'no WebSocket connection',
      );
      link.connected = true;
    },
    rebind: (ms) => {
      const state = session.peerConnection()?.iceConnectionState;
      const iceRestart = state !== 'connected' && state !== 'completed';
      const dropped = new Promise<never>((_, reject) => {
        link.onDrop = () => reject(new Error('WebSocket dropped again'));
      });
      return Promise.race([
        withTimeout(session.rebind({ key, iceRestart }), ms, 'no answer to the rebind'),
        dropped,
      ])
        .then(rebindOutcome)
        .finally(() => (link.onDrop = undefined));
    },
  };
}

/**
 * The rebind's final response: 2xx back in the call; 481 or 408, the gateway
 * no longer holds it (its grace ran out); else the Reason's code.
 */
function rebindOutcome(final: SipFinal): RebindOutcome {
  if (final.statusCode >= 200 && final.statusCode < 300) return { ok: true };
  if (final.statusCode === 481 || final.statusCode === 408)
    return { ok: false, code: 'reconnect_expired' };
  return { ok: false, code: knownCode(reasonCode(final.reason)) };
}
