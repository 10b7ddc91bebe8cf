import { ParleyError } from '@parley/shared/errors';

/**
 * The status a SIP element answers a message it cannot accept with (RFC 3261 §21.4):
 * 400 Bad Request for syntax, 413 Request Entity Too Large (the body makes the message too
 * large), 416 Unsupported URI Scheme, 505 Version Not Supported, and (§21.5.14) 513 Message
 * Too Large (the header section alone is).
 */
export type SipParseStatus = 400 | 413 | 416 | 505 | 513;

/**
 * The only error the message layer throws for bad input: a malformed, oversized or
 * unsupported message, or a header whose structure was asked for and is malformed.
 * `reason` says what was wrong (for logs and a Warning header, never with secrets);
 * `statusHint` is what a UAS or proxy answers a request with. A response that fails
 * to parse is simply dropped (RFC 3261 §18.1.2).
 */
export class SipParseError extends ParleyError<'bad_request'> {
  override readonly name = 'SipParseError';
  readonly reason: string;
  readonly statusHint: SipParseStatus;

  constructor(reason: string, statusHint: SipParseStatus = 400, options?: { cause?: unknown }) {
    super('bad_request', reason, options);
    this.reason = reason;
    this.statusHint = statusHint;
  }

  /** The SIP status to refuse with: the hint, not the generic 400 of `bad_request`. */
  override get sipStatus(): number {
    return this.statusHint;
  }
}

export function isSipParseError(value: unknown): value is SipParseError {
  return value instanceof SipParseError;
}

/** Shortens text quoted in an error reason (reasons end up in logs). */
export function excerpt(text: string, max = 60): string {
  let out = '';
  let i = 0;
  for (; i < text.length && out.length < max; i++) {
    const c = text.charCodeAt(i);
    out += c < 0x20 || c === 0x7f ? `\\x${c.toString(16).padStart(2, '0')}` : text[i];
  }
  return i < text.length ? `${out}…` : out;
}
