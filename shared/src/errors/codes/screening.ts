/**
 * Codes of screening on the company's server (`shared/src/screening`).
 * Joined into ERROR_CODES by `../codes.ts`.
 */
import { TRY_AGAIN, type DomainCodes } from './info.js';

export const SCREENING_CODES = {
  origin_not_allowed: {
    domain: 'screening',
    http: 403,
    sip: 403,
    message: 'The page origin is not on the allowlist.',
    human: 'Calling is not available from this page.',
  },
  rate_limited: {
    domain: 'screening',
    http: 429,
    sip: 503,
    message: 'Too many requests; retry after the time in Retry-After.',
    human: 'Too many call attempts. Please wait a moment and try again.',
  },
  blocked: {
    domain: 'screening',
    http: 403,
    sip: 403,
    message: 'The address or session is blocked.',
    human: 'Calling is not available.',
  },
  outside_business_hours: {
    domain: 'screening',
    http: 403,
    sip: 480,
    message: 'The queue is closed at this time.',
    human: 'We are closed right now. Please call again during business hours.',
  },
  too_many_outstanding: {
    domain: 'screening',
    http: 429,
    sip: 503,
    message: 'This session already holds the maximum number of unexpired call tokens.',
    human: 'Too many call attempts. Please wait a moment and try again.',
  },
  unknown_queue: {
    domain: 'screening',
    http: 404,
    sip: 404,
    message: 'No such queue.',
    human: 'This call destination does not exist.',
  },
  session_required: {
    domain: 'screening',
    http: 401,
    sip: 401,
    message: 'The request carries no web session.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
} as const satisfies DomainCodes<'screening'>;
