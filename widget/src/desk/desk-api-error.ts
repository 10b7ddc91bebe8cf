/**
 * A refusal of the desk API: the HTTP status and the `{ error: { code,
 * message } }` body every Parley API answers with (codes of
 * `shared/src/errors/codes.ts`), or `network` when no answer came.
 */
export class DeskApiError extends Error {
  override readonly name = 'DeskApiError';
  /** HTTP status; 0 when the request did not reach the gateway. */
  readonly status: number;
  /** The gateway's error code (`unauthorized`, `rate_limited`, …) or `network`. */
  readonly code: string;
  /** From a 429's Retry-After header. */
  readonly retryAfterSeconds: number | undefined;

  private constructor(
    status: number,
    code: string,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number | undefined } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The gateway answered with an error status. */
  static fromResponse(status: number, body: unknown, retryAfter: string | null): DeskApiError {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = typeof error?.code === 'string' ? error.code : `http_${status}`;
    const message = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
    const seconds = retryAfter === null ? NaN : Number(retryAfter);
    return new DeskApiError(status, code, message, {
      retryAfterSeconds: Number.isFinite(seconds) ? seconds : undefined,
    });
  }

  /** fetch() failed: offline, DNS, connection refused. */
  static network(cause: unknown): DeskApiError {
    return new DeskApiError(0, 'network', 'the gateway could not be reached', { cause });
  }

  /** A 2xx whose body is not what the API promises. */
  static badBody(path: string): DeskApiError {
    return new DeskApiError(0, 'bad_body', `unexpected answer from ${path}`);
  }

  /** The desk session is missing or expired: sign in again. */
  get unauthorized(): boolean {
    return this.status === 401;
  }
}
