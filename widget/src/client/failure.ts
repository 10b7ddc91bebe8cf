/** How the call client words an attempt's failure: a registry code and what happened. */
import { ERROR_CODES, isErrorCode } from '@parley/shared/errors';

export type Failure = {
  readonly code: string;
  readonly message?: string;
  readonly human?: string;
  readonly retryAfterSeconds?: number;
};

/** A code this widget knows, or `call_failed` ("Unknown → call_failed"). */
export function knownCode(code: string | undefined): string {
  return code !== undefined && isErrorCode(code) ? code : 'call_failed';
}

/** The registry's message for `code` with the detail in brackets. */
export function describe(code: string, detail: unknown): string {
  const base = isErrorCode(code) ? ERROR_CODES[code].message : code;
  const text = detail instanceof Error ? `${detail.name}: ${detail.message}` : String(detail);
  return `${base} (${text})`;
}
