import type { DtmfDigit } from '../api/call-stack.js';
import type { SipBody } from './sip-stack.js';

/** How long each tone lasts, in ms (the value SIP INFO relays to the agent). */
export const DTMF_DURATION_MS = 160;

export function isDtmfDigit(value: unknown): value is DtmfDigit {
  return typeof value === 'string' && /^[0-9*#]$/.test(value);
}

/** The body of a SIP INFO carrying one digit (application/dtmf-relay, as SIP phones send it). */
export function dtmfRelayBody(digit: DtmfDigit, durationMs = DTMF_DURATION_MS): SipBody {
  return {
    contentDisposition: 'render',
    contentType: 'application/dtmf-relay',
    content: `Signal=${digit}\r\nDuration=${durationMs}\r\n`,
  };
}
