/**
 * Every error code Parley emits, in one table (Fastify's way): the HTTP status an
 * API answers with, the SIP status a refusal carries (the code itself goes in the
 * SIP `Reason` header), a message for developers and a message for the person in
 * front of the widget. The codes are written one file per domain under `codes/`
 * (each well under the length of one file) and joined here, in the order
 * `docs/errors.md` lists them; a test keeps the two in step, another that no code
 * is in two files.
 */
import { CALL_CODES } from './codes/call.js';
import { CALLBACK_CODES } from './codes/callback.js';
import { CONFIG_CODES } from './codes/config.js';
import { FLOW_CODES } from './codes/flow.js';
import { GATED_CODES } from './codes/gated.js';
import type { ErrorCodeInfo } from './codes/info.js';
import { REQUEST_CODES } from './codes/request.js';
import { SCREENING_CODES } from './codes/screening.js';
import { SPEECH_CODES } from './codes/speech.js';
import { TOKEN_CODES } from './codes/token.js';
import { TRUNK_CODES } from './codes/trunk.js';
import { WIDGET_CODES } from './codes/widget.js';

export type { ErrorCodeInfo, ErrorDomain } from './codes/info.js';

export const ERROR_CODES = {
  ...TOKEN_CODES,
  ...SCREENING_CODES,
  ...CALL_CODES,
  ...TRUNK_CODES,
  ...CALLBACK_CODES,
  ...FLOW_CODES,
  ...GATED_CODES,
  ...WIDGET_CODES,
  ...REQUEST_CODES,
  ...SPEECH_CODES,
  ...CONFIG_CODES,
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const TOKEN_REASONS = [
  'token_missing',
  'malformed',
  'too_large',
  'unsupported_algorithm',
  'bad_header',
  'unknown_key',
  'key_unavailable',
  'bad_signature',
  'wrong_issuer',
  'wrong_audience',
  'expired',
  'not_yet_valid',
  'lifetime_too_long',
  'replayed',
  'origin_mismatch',
  'scope_denied',
  'decrypt_failed',
  'enc_mismatch',
] as const satisfies readonly ErrorCode[];
export type TokenReason = (typeof TOKEN_REASONS)[number];

export const SCREENING_REASONS = [
  'origin_not_allowed',
  'rate_limited',
  'blocked',
  'outside_business_hours',
  'too_many_outstanding',
  'unknown_queue',
  'session_required',
  'bad_request',
  'number_invalid',
  'number_blocked',
  'callback_not_offered',
  'callback_slot_invalid',
] as const satisfies readonly ErrorCode[];
export type ScreeningReason = (typeof SCREENING_REASONS)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The message for a person; unknown codes get a generic one. */
export function humanMessage(code: string): string {
  return isErrorCode(code) ? ERROR_CODES[code].human : ERROR_CODES.internal.human;
}
