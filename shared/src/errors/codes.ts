/**
 * Every error code Parley emits, in one place (Fastify's way): the HTTP status an
 * API answers with, the SIP status a refusal carries (the code itself goes in the
 * SIP `Reason` header), a message for developers and a message for the person in
 * front of the widget. `docs/errors.md` documents the same list; a test keeps the
 * two in step.
 */
export interface ErrorCodeInfo {
  /** Which layer raises it. */
  readonly domain:
    | 'token'
    | 'screening'
    | 'call'
    | 'trunk'
    | 'callback'
    | 'flow'
    | 'gated'
    | 'request'
    | 'widget'
    | 'speech'
    | 'config';
  readonly http: number;
  readonly sip: number;
  /** For developers and logs. */
  readonly message: string;
  /** For the visitor, shown by the widget. */
  readonly human: string;
}

const TRY_AGAIN = 'Please reload the page and try again.';

export const ERROR_CODES = {
  // Call token verification (shared/src/tokens).
  token_missing: {
    domain: 'token',
    http: 401,
    sip: 401,
    message: 'No call token was presented.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  malformed: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token is not a well-formed compact JWS with the expected claims.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  too_large: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token is larger than the configured limit.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  unsupported_algorithm: {
    domain: 'token',
    http: 401,
    sip: 403,
    message:
      'The call token is signed with an algorithm that is not accepted (only ES256 and EdDSA are).',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  bad_header: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token header is wrong (typ, kid or an unsupported crit extension).',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  unknown_key: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token names a key (kid) the tenant does not publish.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  key_unavailable: {
    domain: 'token',
    http: 503,
    sip: 503,
    message: "The tenant's signing keys could not be fetched.",
    human: 'Calling is briefly unavailable. Please try again in a minute.',
  },
  bad_signature: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token signature does not verify.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  wrong_issuer: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token was issued by a tenant this gateway does not know.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  wrong_audience: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token was issued for another gateway.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  expired: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token has expired.',
    human: `This call link has expired. ${TRY_AGAIN}`,
  },
  not_yet_valid: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token is not valid yet (nbf/iat in the future beyond the clock skew).',
    human: `This call could not be authorised. Please check your device's clock and try again.`,
  },
  lifetime_too_long: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token lives longer than 300 seconds.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  replayed: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token (jti) has already been used.',
    human: `This call link was already used. ${TRY_AGAIN}`,
  },
  origin_mismatch: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token was issued for another page origin.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  scope_denied: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token does not allow calling this destination.',
    human: 'This call is not allowed from this page.',
  },
  decrypt_failed: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The encrypted part of the call token (enc) could not be decrypted.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  enc_mismatch: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The encrypted part of the call token belongs to another token.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },

  // Screening on the company's server (shared/src/screening).
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

  // Trunks to the telephone network (gateway/src/trunks).
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

  // Callbacks: the customer is called first (gateway/src/callbacks; docs/callbacks.md).
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

  // Flows and queues (gateway/src/flows, gateway/src/queues; docs/flows.md).
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

  // Gated facilities (gateway/src/gated, docs/gated.md).
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

  // The widget (never sent by the gateway; shown to the visitor).
  microphone_denied: {
    domain: 'widget',
    http: 400,
    sip: 400,
    message: 'The browser refused microphone access.',
    human: 'We need your microphone for the call. Please allow it in your browser and try again.',
  },
  gateway_unreachable: {
    domain: 'widget',
    http: 503,
    sip: 503,
    message: 'The gateway could not be reached (WebSocket failed).',
    human: 'We could not connect right now. Please check your connection and try again.',
  },
  network_lost: {
    domain: 'widget',
    http: 503,
    sip: 503,
    message: 'The connection to the gateway was lost during the call.',
    human: 'The connection was lost. Please call again.',
  },
  call_failed: {
    domain: 'widget',
    http: 500,
    sip: 500,
    message: 'The call failed for a reason the widget does not know.',
    human: 'The call could not be connected. Please try again.',
  },
  message_rejected: {
    domain: 'widget',
    http: 400,
    sip: 400,
    message: 'A data-channel message was too large, malformed or over the rate limit.',
    human: 'Your message could not be sent. Please try a shorter one.',
  },

  // Generic request errors of every HTTP API.
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

  // Speech: text to speech and transcription (gateway/src/speech).
  speech_text_invalid: {
    domain: 'speech',
    http: 400,
    sip: 500,
    message: 'The text to speak is empty or longer than the configured limit.',
    human: 'Something went wrong. Please try again.',
  },
  speech_voice_unknown: {
    domain: 'speech',
    http: 400,
    sip: 500,
    message: 'The voice is not one of the configured text-to-speech voices.',
    human: 'Something went wrong. Please try again.',
  },
  speech_synthesis_failed: {
    domain: 'speech',
    http: 500,
    sip: 500,
    message: 'Text to speech failed (the synthesiser exited with an error or timed out).',
    human: 'Something went wrong. Please try again.',
  },
  transcriber_busy: {
    domain: 'speech',
    http: 503,
    sip: 503,
    message: 'The recogniser already runs the configured maximum of transcription streams.',
    human: 'Transcription is not available right now.',
  },
  transcriber_unavailable: {
    domain: 'speech',
    http: 503,
    sip: 503,
    message: 'The recogniser could not be started or reached.',
    human: 'Transcription is not available right now.',
  },
  transcriber_failed: {
    domain: 'speech',
    http: 502,
    sip: 500,
    message: 'The recogniser failed during a transcription stream; the stream ended.',
    human: 'Transcription stopped; the recording goes on.',
  },

  // Configuration (gateway start-up, CLI).
  invalid_config: {
    domain: 'config',
    http: 500,
    sip: 500,
    message: 'The configuration is invalid.',
    human: 'Calling is not available.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const TOKEN_REASONS = [
  'token_missing',
  'malformed',
  'too_large',
  'unsupported_algorithm',
  'bad_header',
  'unknown_key',
  'key_unavailable',
  'bad_signature',
  'wrong_issuer',
  'wrong_audience',
  'expired',
  'not_yet_valid',
  'lifetime_too_long',
  'replayed',
  'origin_mismatch',
  'scope_denied',
  'decrypt_failed',
  'enc_mismatch',
] as const satisfies readonly ErrorCode[];
export type TokenReason = (typeof TOKEN_REASONS)[number];

export const SCREENING_REASONS = [
  'origin_not_allowed',
  'rate_limited',
  'blocked',
  'outside_business_hours',
  'too_many_outstanding',
  'unknown_queue',
  'session_required',
  'bad_request',
  'number_invalid',
  'number_blocked',
  'callback_not_offered',
  'callback_slot_invalid',
] as const satisfies readonly ErrorCode[];
export type ScreeningReason = (typeof SCREENING_REASONS)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The message for a person; unknown codes get a generic one. */
export function humanMessage(code: string): string {
  return isErrorCode(code) ? ERROR_CODES[code].human : ERROR_CODES.internal.human;
}
