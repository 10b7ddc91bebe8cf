/**
 * Codes of calls and media (`gateway/src/calls`, `gateway/src/media`, `gateway/src/sbc`).
 * Joined into ERROR_CODES by `../codes.ts`.
 */
import type { DomainCodes } from './info.js';

export const CALL_CODES = {
  // Calls and media (gateway/src/calls, gateway/src/media).
  media_ports_exhausted: {
    domain: 'call',
    http: 503,
    sip: 503,
    message: 'No free RTP/RTCP port pair is left in the configured media port range.',
    human: 'All lines are busy right now. Please try again in a minute.',
  },

  // Calls (gateway/src/calls, gateway/src/sbc).
  no_agent_available: {
    domain: 'call',
    http: 503,
    sip: 480,
    message: 'No agent of the queue is registered and free.',
    human: 'All our agents are busy or away right now. Please try again in a few minutes.',
  },
  agent_busy: {
    domain: 'call',
    http: 503,
    sip: 486,
    message: 'Every agent tried was busy.',
    human: 'All our agents are busy right now. Please try again in a few minutes.',
  },
  agent_no_answer: {
    domain: 'call',
    http: 503,
    sip: 480,
    message: 'No agent answered in time.',
    human: 'No one could answer right now. Please try again in a few minutes.',
  },
  agent_away: {
    domain: 'call',
    http: 503,
    sip: 480,
    message: 'The agent went away or offline while the call rang.',
    human: 'No one could answer right now. Please try again in a few minutes.',
  },
  tenant_call_limit: {
    domain: 'call',
    http: 503,
    sip: 503,
    message: "The tenant's concurrent-call limit is reached.",
    human: 'All our lines are busy right now. Please try again in a few minutes.',
  },
  offer_required: {
    domain: 'call',
    http: 400,
    sip: 488,
    message: 'The INVITE carries no usable SDP offer.',
    human: 'Your browser could not start the call. Please try another browser.',
  },
  media_failed: {
    domain: 'call',
    http: 500,
    sip: 500,
    message:
      "The call's media engine failed (its mediasoup worker died or the legs could not be joined); the call was ended.",
    human: 'The call was lost because of a problem on our side. Please call again.',
  },
  media_timeout: {
    domain: 'call',
    http: 500,
    sip: 408,
    message: 'No media arrived for longer than the configured time; the call was ended.',
    human: 'The call was lost because no sound was getting through.',
  },
  visitor_gone: {
    domain: 'call',
    http: 500,
    sip: 480,
    message: "The visitor's connection closed during the call.",
    human: 'The connection was lost.',
  },
  reconnect_refused: {
    domain: 'call',
    http: 403,
    sip: 403,
    message: "A reconnect without the call's rebind key (another's, or none).",
    human: 'This call could not be resumed here.',
  },
  reconnect_expired: {
    domain: 'call',
    http: 500,
    sip: 408,
    message: 'The visitor did not reconnect within the grace period.',
    human: 'The connection was lost. Please call again.',
  },
  agent_unreachable: {
    domain: 'call',
    http: 502,
    sip: 503,
    message: "The agent's phone could not be reached.",
    human: 'We could not connect your call. Please try again.',
  },
  too_many_hops: {
    domain: 'call',
    http: 400,
    sip: 483,
    message: 'Max-Forwards reached 0.',
    human: 'We could not connect your call. Please try again.',
  },
  overloaded: {
    domain: 'call',
    http: 503,
    sip: 503,
    message:
      'The gateway is over its limit of call setups in progress or is falling behind; retry after the time in Retry-After.',
    human: 'Calling is very busy right now. Please try again in a moment.',
  },
  gateway_restart: {
    domain: 'call',
    http: 503,
    sip: 503,
    message:
      'The gateway stopped while the call was in progress (a crash or a kill); at the next start its record was closed and its legs that could be reached were sent a BYE.',
    human: 'The call was interrupted. Please call again.',
  },
  gateway_lost: {
    domain: 'call',
    http: 503,
    sip: 503,
    message:
      'The gateway carrying the call stopped answering (its lease in the shared Redis lapsed: a crash, a kill or a cut) while the call was in progress; a surviving gateway of the cluster closed its record and sent a BYE to its legs that could be reached.',
    human: 'The call was interrupted. Please call again.',
  },
  listing_unavailable: {
    domain: 'call',
    http: 503,
    sip: 480,
    message:
      'The marketplace listing may not take calls now (paused, outside its schedule, out of daily budget or funds).',
    human: 'This advertiser cannot take calls right now. Please try another one.',
  },
  gateway_shutdown: {
    domain: 'call',
    http: 503,
    sip: 503,
    message: 'The gateway is shutting down.',
    human: 'The call was interrupted. Please call again.',
  },
  voicemail_not_stored: {
    domain: 'call',
    http: 500,
    sip: 500,
    message:
      'Voicemail answered but its record could not be stored (the database refused the row): the recording was stopped and its file removed, and the call ended.',
    human: 'Your message could not be saved. Please call again.',
  },
} as const satisfies DomainCodes<'call'>;
