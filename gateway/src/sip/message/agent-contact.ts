/**
 * An agent's fixed contact (a PBX extension, a trunk) becomes the Request-URI
 * of the gateway's INVITE: it must be a plain SIP URI. URI headers
 * (`?X-Hdr=1`) would be copied into requests (RFC 3261 §19.1.5), a password
 * or control characters have no business there.
 */
import { isSipUri, parseUri, type SipUri } from './uri.js';

/** Why `text` is not an acceptable agent contact, or undefined when it is. */
export function checkAgentContact(text: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(text)) return 'no spaces or control characters';
  let uri;
  try {
    uri = parseUri(text);
  } catch (error) {
    return `not a SIP URI (${(error as Error).message})`;
  }
  if (!isSipUri(uri)) return 'a sip: or sips: URI';
  if (uri.headers.length > 0) return 'a SIP URI without headers (?name=value)';
  if (uri.password !== undefined) return 'a SIP URI without a password';
  if (!uri.host) return 'a SIP URI with a host';
  return undefined;
}

/** The parsed contact (call after {@link checkAgentContact} accepted it). */
export function agentContactUri(text: string): SipUri {
  const uri = parseUri(text);
  if (!isSipUri(uri)) throw new TypeError('not a SIP URI');
  return uri;
}
