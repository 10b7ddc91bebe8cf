import type { ErrorCode, ErrorCodeInfo } from './codes.js';

/**
 * An error with a stable `code`, given the registry entry of its code by the
 * one who builds it. ParleyError, the error of every module, looks the entry
 * up in the whole registry; this class alone imports only types, so code that
 * must not load every code's texts (the widget's first load, its
 * MessageRejectedError with the entry of `codes/widget.ts`) extends it.
 */
export class CodedError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name: string = 'CodedError';
  readonly code: C;
  /** Extra, machine-readable detail for logs (never secrets). */
  readonly detail: string | undefined;
  /** Whether the detail goes into the JSON body (a caller's own mistake, e.g. which field is wrong). */
  readonly exposeDetail: boolean;
  readonly #info: ErrorCodeInfo;

  constructor(
    code: C,
    info: ErrorCodeInfo,
    detail?: string,
    options?: { cause?: unknown; expose?: boolean },
  ) {
    super(detail ? `${info.message} (${detail})` : info.message, options);
    this.code = code;
    this.detail = detail;
    this.exposeDetail = options?.expose === true && detail !== undefined;
    this.#info = info;
  }

  /** HTTP status an API answers this error with. */
  get httpStatus(): number {
    return this.#info.http;
  }

  /** SIP status a refusal with this error carries. */
  get sipStatus(): number {
    return this.#info.sip;
  }

  /** The JSON body every Parley HTTP API uses for errors. */
  toJSON(): ErrorBody {
    const message = this.#info.message;
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
