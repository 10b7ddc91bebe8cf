/**
 * What the authenticating server decides, and what it was asked. A decision
 * lists every check it ran, in order, with the one that failed; it is stored
 * whole (`DecisionStore`) for the facility, while the caller only ever hears
 * the outward answer: connected, or "not available" (never which check).
 */
import type { DeviceKind } from './types.js';

/**
 * - `authorize`: before any device is notified (caller ↔ account ↔ device ↔ resident, active, balance);
 * - `device-pin`: the resident keyed the PIN on the resident app while it rang;
 * - `reverify`: just before connecting, with what the device gave (a PIN by DTMF, the app's ticket);
 * - `recheck`: during the call, at `reverifyIntervalSeconds`;
 * - `sign-in`: a resident signing in on a resident app (no call).
 */
export type GateStage = 'authorize' | 'device-pin' | 'reverify' | 'recheck' | 'sign-in';

export const CHECK_NAMES = [
  /** The facility's server answered (hook mode). */
  'authenticator',
  /** Re-verification: the call was authorised before and not forgotten. */
  'pending_call',
  /** The subject is not locked out and its delay after a wrong PIN has passed. */
  'pin_lockout',
  /** The caller is on an inbound calling account (number, account number, or token). */
  'caller_account',
  /** The account PIN keyed with the account number. */
  'account_pin',
  /** The account is active. */
  'account_status',
  /** The called resident exists and is active. */
  'callee',
  /** The facility approved the account for this resident. */
  'account_resident',
  /** The account is tied to the device's address identifier (through the resident). */
  'account_device',
  /** The resident's PIN belongs to the device's address identifier (and, on an app, the resident signed in with it). */
  'resident_pin_device',
  /** Enabled, registered, signed in (apps), not blocked by a schedule. */
  'device_active',
  /** The balance buys the minimum minutes at the account's rate. */
  'balance',
  /** The PIN keyed on the device is the resident's. */
  'resident_pin',
  /** The app's proof that the resident keyed the right PIN for this call. */
  'device_ticket',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface Check {
  readonly name: CheckName;
  readonly ok: boolean;
  /** Why, in a few words (for the facility; never told to the caller; never a secret). */
  readonly detail?: string;
}

/** A device the call may ring. */
export interface DeviceTarget {
  readonly address: string;
  readonly kind: DeviceKind;
  /** What it registered with: the call path rings its contacts. */
  readonly sipUser: string;
}

/** What the caller gets: connected, or the not-available prompt with the one refusal code. */
export type OutwardAnswer =
  | { readonly kind: 'proceed' }
  | {
      readonly kind: 'not_available';
      /** The Reason code of a SIP refusal (a web caller): always the same. */
      readonly code: 'callee_not_available';
      /** What a caller on a phone hears before the hang-up. */
      readonly prompt: string;
    };

export interface GateDecision {
  readonly id: string;
  readonly tenant: string;
  /** The gateway's call id; null for a sign-in. */
  readonly callId: string | null;
  readonly stage: GateStage;
  readonly at: number;
  readonly allowed: boolean;
  /** Who decided: the built-in checks, the facility's server, or the built-in checks after the server failed. */
  readonly decidedBy: 'builtin' | 'http' | 'builtin-after-http';
  readonly checks: readonly Check[];
  /** The first check that failed; null when allowed. */
  readonly failed: CheckName | null;
  readonly accountId: string | null;
  readonly residentId: string | null;
  /** The devices to ring (authorize), or the one that answered (later stages). */
  readonly devices: readonly DeviceTarget[];
  /** The name the device shows (the account holder's). */
  readonly callerName: string | null;
  readonly ratePerMinute: number | null;
  readonly balance: number | null;
  readonly outward: OutwardAnswer;
  /** How long the decision took, in microseconds. */
  readonly durationUs: number;
}

/** The stored record, as the facility's API shows it. */
export type DecisionRecord = Omit<GateDecision, 'outward'>;
