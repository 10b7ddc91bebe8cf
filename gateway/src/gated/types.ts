/**
 * The vocabulary of a gated facility (S4): residents, their devices, and the
 * inbound calling accounts non-residents open. Money is an integer in the
 * currency's minor unit (cents); times are ms since the epoch.
 */
import type { CallingHours } from '../config/index.js';

/** A registered SIP phone (the PIN comes as DTMF after it answers) or a Parley resident app. */
export type DeviceKind = 'sip' | 'app';

export interface Resident {
  readonly tenant: string;
  /** The facility's own id of the resident (a booking number…). */
  readonly id: string;
  readonly name: string;
  /** Digits a caller keys to choose this resident (`gather`), unique in the tenant; null: none. */
  readonly number: string | null;
  readonly status: 'active' | 'inactive';
  /** The address identifiers of the resident's devices. */
  readonly devices: readonly string[];
  /** Whether a PIN is set (the hash never leaves the store). */
  readonly pinSet: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface StoredResident extends Resident {
  /** scrypt PHC string (`pin-hash.ts`); null: no PIN yet (no call can be verified). */
  readonly pinHash: string | null;
}

export interface Device {
  readonly tenant: string;
  /** The device's address identifier, chosen by the facility, unique in the tenant. */
  readonly address: string;
  readonly kind: DeviceKind;
  readonly name: string | null;
  /** The SIP username it registers with (made by Parley, unique across tenants). */
  readonly sipUser: string;
  /** Switched off by the facility: never active. */
  readonly enabled: boolean;
  /** Weekly hours it may ring (null: the tenant's default, else any time). */
  readonly callingHours: CallingHours | null;
  /** Blocked until this time (a lockdown, a sanction); null: not blocked. */
  readonly blockedUntil: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface StoredDevice extends Device {
  /** Digest realm the H(A1) values were made in (the gateway's SIP domain). */
  readonly realm: string;
  /** H(A1) of the device credential: what the registrar and the device sign-in check. */
  readonly ha1: { readonly MD5: string; readonly 'SHA-256': string };
  /** Changes with each new credential: device sessions made before are void. */
  readonly credentialStamp: string;
}

export type AccountStatus = 'active' | 'suspended' | 'closed';

export interface AccountPhone {
  /** E.164. */
  readonly number: string;
  /** When the facility verified it; only verified numbers identify the caller. */
  readonly verifiedAt: number | null;
}

export interface Account {
  readonly tenant: string;
  readonly id: string;
  /** Digits the caller keys when the number alone does not identify the account. */
  readonly number: string;
  /** The account holder: the caller's name the resident's device shows. */
  readonly name: string;
  readonly phones: readonly AccountPhone[];
  /** The login on the facility's site whose call tokens carry it (`webLogin` private claim). */
  readonly webLogin: string | null;
  /** Minor units per started minute. */
  readonly ratePerMinute: number;
  /** Prepaid, minor units, never below 0. */
  readonly balance: number;
  readonly status: AccountStatus;
  readonly pinSet: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface StoredAccount extends Account {
  readonly pinHash: string | null;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied';

/** Whether the facility lets an account call a resident. */
export interface Approval {
  readonly tenant: string;
  readonly accountId: string;
  readonly residentId: string;
  readonly status: ApprovalStatus;
  readonly decidedAt: number | null;
  /** Who decided (the API key's id). */
  readonly decidedBy: string | null;
}

/** A page of a list, oldest id first; `next` is the cursor of the following page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string | null;
}
