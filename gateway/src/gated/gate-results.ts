/** What the Gate answers a device: the data it re-verifies, and a PIN's result. */
import type { GateDecision } from './decision.js';

/** What the device gave just before connecting. */
export type DeviceData =
  /** A plain SIP phone: the PIN the resident keyed (DTMF) after answering. */
  | { readonly device: string; readonly pin: string }
  /** A resident app: the ticket `devicePin` gave it, sent back in its 200 OK (`X-Parley-Device-Ticket`). */
  | { readonly device: string; readonly ticket: string };

export type PinResult =
  | { readonly ok: true; readonly decision: GateDecision }
  | {
      readonly ok: false;
      readonly code: 'pin_refused' | 'pin_locked' | 'not_found';
      /** With `pin_locked`: when to try again. */
      readonly retryAfterMs?: number;
      readonly decision: GateDecision;
    };

export type DevicePinResult =
  | {
      readonly ok: true;
      readonly ticket: string;
      readonly expiresAt: number;
      readonly decision: GateDecision;
    }
  | Extract<PinResult, { ok: false }>;
