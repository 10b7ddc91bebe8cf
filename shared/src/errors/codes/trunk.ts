/**
 * Codes of trunks to the telephone network (`gateway/src/trunks`).
 * Joined into ERROR_CODES by `../codes.ts`.
 */
import type { DomainCodes } from './info.js';

export const TRUNK_CODES = {
  trunk_source_not_allowed: {
    domain: 'trunk',
    http: 403,
    sip: 403,
    message:
      "The INVITE for a trunk's number came from an address outside the trunk's access list.",
    human: 'Not allowed.',
  },
  trunk_unknown_number: {
    domain: 'trunk',
    http: 404,
    sip: 404,
    message: 'The called number is none of the inbound numbers of the trunk it came from.',
    human: 'This number does not exist.',
  },
  trunk_call_limit: {
    domain: 'trunk',
    http: 503,
    sip: 503,
    message: "The trunk's concurrent-call limit (inbound and outbound together) is reached.",
    human: 'All lines are busy right now. Please try again in a few minutes.',
  },
  no_flow_attached: {
    domain: 'trunk',
    http: 503,
    sip: 480,
    message:
      'The number was accepted but nothing answers it: no flow is attached to trunk calls yet.',
    human: 'This number cannot take calls right now.',
  },
  trunk_not_allowed: {
    domain: 'trunk',
    http: 403,
    sip: 403,
    message: 'The tenant may not call out through this trunk, or no trunk is configured for it.',
    human: 'This call is not allowed.',
  },
  trunk_unavailable: {
    domain: 'trunk',
    http: 503,
    sip: 503,
    message:
      'No peer of the trunk could take the call: every one is down, or answered 503, timed out or could not be reached.',
    human: 'We could not connect your call. Please try again.',
  },
  trunk_auth_failed: {
    domain: 'trunk',
    http: 502,
    sip: 503,
    message:
      "The carrier refused the trunk's credentials, or challenged for a realm it has none for.",
    human: 'We could not connect your call. Please try again.',
  },
  number_not_allowed: {
    domain: 'trunk',
    http: 403,
    sip: 403,
    message:
      "The trunk's outbound rules refuse this number (outbound.denyPrefixes or allowPrefixes; the detail names the rule).",
    human: 'This call is not allowed.',
  },
  number_invalid: {
    domain: 'trunk',
    http: 400,
    sip: 484,
    message: 'The number to call is not a possible telephone number.',
    human: 'This number is not valid.',
  },
  number_busy: {
    domain: 'trunk',
    http: 503,
    sip: 486,
    message: 'The called number was busy (486, 600).',
    human: 'The number you called is busy. Please try again later.',
  },
  number_no_answer: {
    domain: 'trunk',
    http: 503,
    sip: 480,
    message: 'The called number did not answer in time (480, 487 after our ring timeout, 408).',
    human: 'No one answered. Please try again later.',
  },
  number_rejected: {
    domain: 'trunk',
    http: 502,
    sip: 480,
    message:
      "The telephone network refused the call (another 4xx, 5xx or 6xx; the carrier's status is in the detail).",
    human: 'The call could not be connected. Please try again later.',
  },
} as const satisfies DomainCodes<'trunk'>;
