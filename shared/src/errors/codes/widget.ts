/**
 * Codes of the widget: never sent by the gateway, shown to the visitor.
 * Joined into ERROR_CODES by `../codes.ts`.
 */
import type { DomainCodes } from './info.js';

export const WIDGET_CODES = {
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
} as const satisfies DomainCodes<'widget'>;
