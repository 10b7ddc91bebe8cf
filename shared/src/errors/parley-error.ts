import { ERROR_CODES, type ErrorCode } from './codes.js';

/**
 * The one base error of Parley. Every error that crosses a module boundary is a
 * ParleyError with a stable `code` from {@link ERROR_CODES}; the cause, when there
 * is one, is kept for logs and never shown to a visitor.
 */
export class ParleyError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name: string = 'ParleyError';
  readonly code: C;
  /** Extra, machine-readable detail for logs (never secrets). */
  readonly detail: string | undefined;
  /** Whether the detail goes into the JSON body (a caller's own mistake, e.g. which field is wrong). */
  readonly exposeDetail: boolean;

  constructor(code: C, detail?: string, options?: { cause?: unknown; expose?: boolean }) {
    super(detail ? `${ERROR_CODES[code].message} (${detail})` : ERROR_CODES[code].message, options);
    this.code = code;
    this.detail = detail;
    this.exposeDetail = options?.expose === true && detail !== undefined;
  }

  /** HTTP status an API answers this error with. */
  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  /** SIP status a refusal with this error carries. */
  get sipStatus(): number {
    return ERROR_CODES[this.code].sip;
  }

  /** The JSON body every Parley HTTP API uses for errors. */
  toJSON(): ErrorBody {
    const message = ERROR_CODES[this.code].message;
    return {
      error:
        this.exposeDetail && this.detail !== undefined
          ? { code: this.code, message, detail: this.detail }
          : { code: this.code, message },
    };
  }
}

export interface ErrorBody {
  error: { code: string; message: string; detail?: string };
}

export function isParleyError(value: unknown): value is ParleyError {
  return value instanceof ParleyError;
}
