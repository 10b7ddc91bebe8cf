import { CodedError, WIDGET_CODES } from '@parley/shared/errors/widget';

/** Why `send()` refused a message. */
export type MessageRejectedReason =
  'not_in_call' | 'channel_closed' | 'invalid' | 'too_large' | 'rate_limited';

/**
 * What `send()` rejects with: always code `message_rejected`, and a `reason`
 * to tell the cases apart. A CodedError given its code's entry, not a
 * ParleyError: the first load has it (the controller throws it) and must not
 * carry every code's texts. Only the case the first load throws has a factory;
 * the others are built where they happen, in the call stack's chunk.
 */
export class MessageRejectedError extends CodedError<'message_rejected'> {
  override readonly name = 'MessageRejectedError';
  readonly reason: MessageRejectedReason;

  /** `detail`: for developers, in the message after the code's own. */
  constructor(reason: MessageRejectedReason, detail: string) {
    super('message_rejected', WIDGET_CODES.message_rejected, detail);
    this.reason = reason;
  }

  static notInCall(): MessageRejectedError {
    return new MessageRejectedError('not_in_call', 'there is no call in progress');
  }
}
