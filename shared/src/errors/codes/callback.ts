/**
 * Codes of callbacks, where the customer is called first (`gateway/src/callbacks`).
 * Joined into ERROR_CODES by `../codes.ts`.
 */
import type { DomainCodes } from './info.js';

export const CALLBACK_CODES = {
  number_blocked: {
    domain: 'callback',
    http: 403,
    sip: 403,
    message:
      'The number may not be called: a premium-rate, shared-cost or emergency number, or one the block rules name (callbacks.numbers, screening blockedNumbers).',
    human: 'We cannot call this number. Please enter another one.',
  },
  callback_not_offered: {
    domain: 'callback',
    http: 404,
    sip: 404,
    message: 'The destination offers no callbacks (callbacks.queues, callbacks.listings).',
    human: 'Call-back is not available here.',
  },
  callback_slot_invalid: {
    domain: 'callback',
    http: 400,
    sip: 400,
    message:
      'The time asked for is no time slot of the destination: in the past, too far ahead, or outside its business hours or schedule.',
    human: 'Please choose another time.',
  },
  callback_declined: {
    domain: 'callback',
    http: 409,
    sip: 603,
    message: 'The customer declined the callback (pressed 2): the advertiser was not called.',
    human: 'You declined the call. You can ask for a new one at any time.',
  },
  callback_no_key: {
    domain: 'callback',
    http: 408,
    sip: 408,
    message:
      'The customer answered but pressed no key in time (an answering machine, or nobody there): the advertiser was not called.',
    human: 'We called you but no key was pressed. Please ask again when you can take the call.',
  },
  callback_advertiser_unavailable: {
    domain: 'callback',
    http: 503,
    sip: 480,
    message:
      'The customer accepted but the advertiser could not be reached (busy, no answer, no agent free).',
    human: 'We could not reach them just now. Please try again later.',
  },
  callback_cannot_pay: {
    domain: 'callback',
    http: 402,
    sip: 480,
    message:
      'The advertiser cannot pay the callback fee: it was not called, the customer heard an apology.',
    human: 'We could not connect you right now. Sorry.',
  },
  callback_interrupted: {
    domain: 'callback',
    http: 503,
    sip: 503,
    message:
      'The gateway stopped while the callback was in progress; it was recorded as interrupted and not placed again.',
    human: 'The callback was interrupted. Please ask again.',
  },
  callback_cancelled: {
    domain: 'callback',
    http: 409,
    sip: 487,
    message: 'The callback was cancelled (through the API, or by the customer hanging up).',
    human: 'The callback was cancelled.',
  },
} as const satisfies DomainCodes<'callback'>;
