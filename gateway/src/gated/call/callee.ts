/**
 * Whom a visitor's gated call is for, and how the caller's name may be shown
 * on a resident's device (docs/gated.md, "The call path").
 */
import type { Call } from '../../calls/index.js';
import { getParam, isSipUri } from '../../sip/index.js';
import type { AuthorizeContext } from '../auth/authenticator.js';

/** A resident's number: 1-16 digits, as the facility's API accepts it. */
const RESIDENT_NUMBER = /^\d{1,16}$/;

/**
 * The callee of a visitor's call. The call token's private claim `resident`
 * (a resident's number: the facility's site, which signed the token, says
 * whom the visitor chose) comes first; else the Request-URI, whose user is
 * the facility's queue (what the token's scope names), with a `resident`
 * parameter (a resident's number) or a `device` parameter (a device's
 * address): `sip:visits@gw;resident=1001`. None: the one resident the
 * account is approved for (an account approved for several is refused
 * `callee`).
 */
export function calleeOf(call: Call): AuthorizeContext['callee'] {
  const claimed = call.token?.privateClaims['resident'];
  if (typeof claimed === 'string' && RESIDENT_NUMBER.test(claimed))
    return { residentNumber: claimed };
  const uri = call.caller.invite.uri;
  if (!isSipUri(uri)) return undefined;
  const param = (name: string): string | undefined => getParam(uri.params, name) || undefined;
  const resident = param('resident');
  if (resident) return { residentNumber: resident };
  const device = param('device');
  return device ? { device } : undefined;
}

/** Printable, bounded: it lands on a resident's screen (as an agent's caller name does). */
export function printable(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
  return name.replace(/[\u0000-\u001f\u007f"\\]/g, ' ').slice(0, 64);
}
