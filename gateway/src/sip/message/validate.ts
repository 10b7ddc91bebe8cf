/**
 * The full check a UAS, proxy or SBC runs before acting on a message: every header the
 * transaction, dialog and routing layers read is parsed now (and stays cached), so a
 * malformed one is answered 400 at the door instead of failing deep inside a call.
 */
import { SipParseError, excerpt } from './sip-parse-error.js';
import { isSipUri } from './uri.js';
import type { SipRequest, SipResponse } from './sip-message.js';

export interface ValidateOptions {
  /**
   * Request-URI schemes this element serves; another is refused with 416 Unsupported
   * URI Scheme (RFC 3261 §8.2.2.1). Default sip, sips and tel.
   */
  readonly uriSchemes?: readonly string[];
}

const DEFAULT_SCHEMES: readonly string[] = ['sip', 'sips', 'tel'];
const CALL_ID_WORD = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+$/;

/** Throws SipParseError (with the status to answer) when the message cannot be accepted. */
export function validateMessage(
  message: SipRequest | SipResponse,
  options?: ValidateOptions,
): void {
  if (message.type === 'request') {
    const uri = message.uri;
    const schemes = options?.uriSchemes ?? DEFAULT_SCHEMES;
    if (!schemes.includes(uri.scheme)) {
      throw new SipParseError(`unsupported Request-URI scheme ${uri.scheme}`, 416);
    }
    // RFC 3261 §19.1.1 table 1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
    if (isSipUri(uri) && uri.headers.length > 0) {
      throw new SipParseError(`headers in the Request-URI ${excerpt(message.requestUri)}`);
    }
  }
  void message.vias;
  void message.from;
  void message.to;
  void message.cseq;
  if (!isCallId(message.callId)) throw new SipParseError(`bad Call-ID ${excerpt(message.callId)}`);
  void message.maxForwards;
  void message.contacts;
  void message.routes;
  void message.recordRoutes;
}

/** callid = word [ "@" word ] (RFC 3261 §25.1). */
export function isCallId(value: string): boolean {
  const at = value.indexOf('@');
  if (at === -1) return CALL_ID_WORD.test(value);
  return (
    value.indexOf('@', at + 1) === -1 &&
    CALL_ID_WORD.test(value.slice(0, at)) &&
    CALL_ID_WORD.test(value.slice(at + 1))
  );
}
