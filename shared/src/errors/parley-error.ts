import { CodedError } from './coded-error.js';
import { ERROR_CODES, type ErrorCode } from './codes.js';

export type { ErrorBody } from './coded-error.js';

/**
 * The one base error of Parley. Every error that crosses a module boundary is a
 * ParleyError with a stable `code` from {@link ERROR_CODES}; the cause, when there
 * is one, is kept for logs and never shown to a visitor. (Its behaviour is
 * CodedError's; this class adds the look-up of the code in the whole registry.)
 */
export class ParleyError<C extends ErrorCode = ErrorCode> extends CodedError<C> {
  override readonly name: string = 'ParleyError';

  constructor(code: C, detail?: string, options?: { cause?: unknown; expose?: boolean }) {
    super(code, ERROR_CODES[code], detail, options);
  }
}

export function isParleyError(value: unknown): value is ParleyError {
  return value instanceof ParleyError;
}
