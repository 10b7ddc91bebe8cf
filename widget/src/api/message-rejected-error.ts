import { CodedError, WIDGET_CODES } from '@parley/shared/errors/widget';

/** Why `send()` refused a message. */
export type MessageRejectedReason =
  'not_in_call' | 'channel_closed' | 'invalid' | 'too_large' | 'rate_limited';

/**
 * What `send()` rejects with: always code `message_rejected`, and a `reason`
 * to tell the cases apart. Built only through the static factories. A
 * CodedError given its code's entry, not a ParleyError: the first load has it
 * (the controller throws it) and must not carry every code's texts.
 */
export class MessageRejectedError extends CodedError<'message_rejected'> {
  override readonly name = 'MessageRejectedError';
  readonly reason: MessageRejectedReason;

  private constructor(reason: MessageRejectedReason, detail: string) {
    super('message_rejected', WIDGET_CODES.message_rejected, detail);
    this.reason = reason;
  }

  static notInCall(): MessageRejectedError {
    return new MessageRejectedError('not_in_call', 'there is no call in progress');
  }

  static channelClosed(): MessageRejectedError {
    return new MessageRejectedError('channel_closed', 'the message channel is not open');
  }

  static invalid(why: string): MessageRejectedError {
    return new MessageRejectedError('invalid', why);
  }

  static tooLarge(bytes: number, limit: number): MessageRejectedError {
    return new MessageRejectedError('too_large', `${bytes} bytes, limit ${limit}`);
  }

  static rateLimited(): MessageRejectedError {
    return new MessageRejectedError('rate_limited', 'too many messages per second');
  }
}
