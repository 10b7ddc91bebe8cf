import { ParleyError, type TokenReason } from '../errors/index.js';

/** A token refused for `code` (one of {@link TokenReason}). Never anything else is thrown. */
export class CallTokenError extends ParleyError<TokenReason> {
  override readonly name = 'CallTokenError';

  get reason(): TokenReason {
    return this.code;
  }
}

export function isCallTokenError(value: unknown): value is CallTokenError {
  return value instanceof CallTokenError;
}
