/**
 * The one error type the testkit throws. Test infrastructure failures are not
 * Parley errors (they never reach a visitor, a SIP Reason header or
 * docs/errors.md), so they get their own small vocabulary instead of codes in
 * `@parley/shared/errors`.
 */
export type TestkitErrorCode =
  | 'timeout'
  | 'spawn_failed'
  | 'process_exited'
  | 'command_failed'
  | 'register_failed'
  | 'no_free_port'
  | 'tool_failed'
  | 'bad_input';

export class TestkitError extends Error {
  override readonly name = 'TestkitError';
  readonly code: TestkitErrorCode;

  constructor(code: TestkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
