/**
 * Who called, whatever way the call came in: a visitor with a call token (a
 * browser over the SIP WebSocket, or a SIP visitor) or the telephone network
 * through a trunk. The record, the desk, routing and flows read the caller
 * from here rather than from the token, so a trunk call (no token, no web
 * session) is a call like any other.
 */
import { ParleyError } from '@parley/shared/errors';
import type { PrivateClaims } from '@parley/shared/tokens';
import type { CallChannel } from '../storage/index.js';
import type { CallInit, TrunkCaller } from './call-types.js';

export interface CallerView {
  readonly tenant: string;
  /**
   * The web session (the token's `sub`); for a trunk call `tel:<caller>` (so
   * the desk shows the same number's earlier calls) or `trunk:<Call-ID>` when
   * the caller is anonymous.
   */
  readonly sessionId: string;
  /** The page's origin; for a trunk call `trunk:<id>`. */
  readonly origin: string;
  readonly customerId: string | null;
  readonly channel: CallChannel;
  /** The token's public and private claims (empty for a trunk call). */
  readonly publicClaims: Readonly<Record<string, unknown>>;
  readonly privateClaims: PrivateClaims;
  /** A trunk call's details. */
  readonly trunk: TrunkCaller | undefined;
}

export function callerView(init: CallInit, webrtc: boolean): CallerView {
  const { token, trunk } = init;
  if (token) {
    const customerId = token.privateClaims.customerId;
    return {
      tenant: token.claims.iss,
      sessionId: token.claims.sub,
      origin: token.claims.origin,
      customerId: typeof customerId === 'string' ? customerId : null,
      channel: webrtc ? 'browser' : 'sip',
      publicClaims: token.claims as unknown as Readonly<Record<string, unknown>>,
      privateClaims: token.privateClaims,
      trunk: undefined,
    };
  }
  if (trunk) {
    return {
      tenant: trunk.tenant,
      sessionId: trunk.callerNumber ? `tel:${trunk.callerNumber}` : `trunk:${init.invite.callId}`,
      origin: `trunk:${trunk.trunk}`,
      customerId: null,
      channel: 'phone',
      publicClaims: {},
      privateClaims: {},
      trunk,
    };
  }
  throw new ParleyError('internal', 'a call needs a call token or a trunk');
}
