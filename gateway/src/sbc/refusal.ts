import { ERROR_CODES, type ErrorCode } from '@parley/shared/errors';
import type { ServerTransaction, SipStack } from '../sip/index.js';

/** Why the SBC (or a call) turns a request away: a Parley error code, with detail for logs. */
export interface Refusal {
  readonly code: ErrorCode;
  readonly detail?: string | undefined;
  readonly headers?: readonly (readonly [string, string])[];
}

/**
 * The Reason header (RFC 3326) that carries a Parley code: the widget and
 * SIP systems read `text` as the machine-readable reason.
 */
export function reasonHeader(
  code: ErrorCode,
  status: number = ERROR_CODES[code].sip,
): [string, string] {
  return ['Reason', `SIP;cause=${status};text="${code}"`];
}

/** Answers `tx` with the code's SIP status, a Reason with the code and a Warning with the message. */
export function refuse(
  stack: SipStack,
  tx: ServerTransaction,
  refusal: Refusal,
  toTag?: string,
): void {
  const info = ERROR_CODES[refusal.code];
  stack.respond(tx, info.sip, {
    ...(toTag ? { toTag } : {}),
    headers: [
      reasonHeader(refusal.code),
      ['Warning', `399 parley "${info.message.replace(/"/g, "'")}"`],
      ...(refusal.headers ?? []),
    ],
  });
}
