/** Codes of gated facilities (`gateway/src/gated`). Joined into ERROR_CODES by `../codes.ts`. */
import type { DomainCodes } from './info.js';

export const GATED_CODES = {
  callee_not_available: {
    domain: 'gated',
    http: 403,
    sip: 480,
    message:
      'The gated call was not authorised; which check failed is stored with the decision, never told to the caller.',
    human: 'The person you are calling is not available.',
  },
  pin_refused: {
    domain: 'gated',
    http: 403,
    sip: 403,
    message: 'The PIN is not the right one for this resident, device or account.',
    human: 'That PIN is not correct.',
  },
  pin_locked: {
    domain: 'gated',
    http: 429,
    sip: 403,
    message:
      'Too many wrong PINs: the device, resident or account takes no PIN until the time in Retry-After.',
    human: 'Too many wrong PINs. Please wait and try again later.',
  },
  balance_exhausted: {
    domain: 'gated',
    http: 402,
    sip: 480,
    message: "The inbound calling account's prepaid balance is used up; the call was ended.",
    human: 'Your balance is used up.',
  },
} as const satisfies DomainCodes<'gated'>;
