/** Why the softphone could not answer or decline. */
export type SoftphoneErrorReason = 'not_ringing' | 'microphone_denied' | 'answer_failed';

/** What `Softphone.answer()` and `decline()` reject with; built only through the static factories. */
export class SoftphoneError extends Error {
  override readonly name = 'SoftphoneError';
  readonly reason: SoftphoneErrorReason;

  private constructor(reason: SoftphoneErrorReason, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.reason = reason;
  }

  static notRinging(callId: string): SoftphoneError {
    return new SoftphoneError('not_ringing', `no call ${callId} is ringing on this browser`);
  }

  static microphoneDenied(cause: unknown): SoftphoneError {
    return new SoftphoneError('microphone_denied', 'the browser refused microphone access', cause);
  }

  static answerFailed(cause: unknown): SoftphoneError {
    return new SoftphoneError(
      'answer_failed',
      `the call could not be answered: ${String(cause)}`,
      cause,
    );
  }
}
