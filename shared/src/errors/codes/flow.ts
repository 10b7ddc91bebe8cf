/**
 * Codes of flows and queues (`gateway/src/flows`, `gateway/src/queues`).
 * Joined into ERROR_CODES by `../codes.ts`.
 */
import type { DomainCodes } from './info.js';

export const FLOW_CODES = {
  queue_timeout: {
    domain: 'flow',
    http: 503,
    sip: 480,
    message:
      'The caller waited the longest wait of the queue (waiting.maxWaitSeconds) without an agent.',
    human: 'No one could take your call in time. Please try again later.',
  },
  queue_full: {
    domain: 'flow',
    http: 503,
    sip: 480,
    message: 'The queue is full (waiting.maxCallers).',
    human: 'All our agents are busy right now. Please try again in a few minutes.',
  },
  flow_not_found: {
    domain: 'flow',
    http: 404,
    sip: 500,
    message: 'No flow of that name is configured.',
    human: 'We could not connect your call. Please try again.',
  },
  flow_source_failed: {
    domain: 'flow',
    http: 502,
    sip: 500,
    message:
      "The flow's webhook or module gave no usable verbs; the fallback flow ran (the record says why).",
    human: 'We could not connect your call. Please try again.',
  },
  flow_redirect_loop: {
    domain: 'flow',
    http: 508,
    sip: 500,
    message: 'Too many redirects without the caller doing anything; the call was ended.',
    human: 'We could not connect your call. Please try again.',
  },
  verb_failed: {
    domain: 'flow',
    http: 500,
    sip: 500,
    message: 'A verb could not run (its event says why); the flow went on.',
    human: 'Something went wrong. Please try again.',
  },
  prompt_unavailable: {
    domain: 'flow',
    http: 502,
    sip: 500,
    message:
      'The audio of a say or play could not be made or read (its event says why); the flow went on.',
    human: 'Something went wrong. Please try again.',
  },
  recording_failed: {
    domain: 'flow',
    http: 507,
    sip: 500,
    message: 'A recording could not be written (disk full); the call went on without it.',
    human: 'Your message could not be recorded. Please try again later.',
  },
} as const satisfies DomainCodes<'flow'>;
