/** Generic request codes of every HTTP API. Joined into ERROR_CODES by `../codes.ts`. */
import type { DomainCodes } from './info.js';

export const REQUEST_CODES = {
  bad_request: {
    domain: 'request',
    http: 400,
    sip: 400,
    message: 'The request is malformed.',
    human: 'Something went wrong. Please try again.',
  },
  not_found: {
    domain: 'request',
    http: 404,
    sip: 404,
    message: 'Not found.',
    human: 'Something went wrong. Please try again.',
  },
  conflict: {
    domain: 'request',
    http: 409,
    sip: 409,
    message:
      'The request conflicts with the current state (a name already taken, a resource managed elsewhere).',
    human: 'Something went wrong. Please try again.',
  },
  elsewhere: {
    domain: 'request',
    http: 421,
    sip: 500,
    message:
      "What was asked is on another gateway of the cluster (a voicemail's recording, or one being recorded there): the detail names it; ask that gateway.",
    human: 'Something went wrong. Please try again.',
  },
  unauthorized: {
    domain: 'request',
    http: 401,
    sip: 401,
    message: 'Authentication is required.',
    human: 'Please sign in.',
  },
  forbidden: {
    domain: 'request',
    http: 403,
    sip: 403,
    message: 'Not allowed.',
    human: 'Not allowed.',
  },
  internal: {
    domain: 'request',
    http: 500,
    sip: 500,
    message: 'Internal error.',
    human: 'Something went wrong. Please try again.',
  },
  entries_interrupted: {
    domain: 'request',
    http: 503,
    sip: 500,
    message: 'The batch stopped midway: entries answered before were stored; resending is safe.',
    human: 'Something went wrong. Please try again.',
  },
} as const satisfies DomainCodes<'request'>;
