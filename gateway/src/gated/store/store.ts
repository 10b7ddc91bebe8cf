/**
 * What the gated module keeps, behind interfaces. The residents, devices,
 * audit log and wrong-PIN counts are in the gateway's SQLite file
 * (`sqlite-gated-store.ts`); the accounts, their money (credits, meters,
 * per-minute charges) and the decisions are there too with `storage.kind:
 * sqlite`, and in PostgreSQL, shared by every gateway, with `storage.kind:
 * postgres` (`pg-gated-store.ts`). Every lookup on the call path is by key
 * or index (tenant first), never a scan, so a decision costs the same with
 * 100 accounts or 100,000 (bench/src/gated.ts).
 *
 * The residents, devices, audit and PIN stores answer synchronously (the
 * registrar asks for a device's secret synchronously), and `transaction`
 * writes a resident's or a device's change and its audit entry together or
 * not at all. The account, billing and decision stores answer promises; each
 * call is atomic (an account with its phones; a credit or a minute's charge
 * with its balance and idempotency key), and an account change's audit
 * entry is appended once the change committed (a crash between the two
 * loses the entry, never the change).
 */
import type { DecisionRecord } from '../decision.js';
import type { Approval, Page, StoredAccount, StoredDevice, StoredResident } from '../types.js';

export interface ListOptions {
  /** The last id of the previous page. */
  readonly after?: string | undefined;
  readonly limit: number;
}

export interface ResidentStore {
  get(tenant: string, id: string): StoredResident | undefined;
  byNumber(tenant: string, number: string): StoredResident | undefined;
  list(tenant: string, options: ListOptions): Page<StoredResident>;
  /** Creates or replaces the resident with its device links (devices must exist). */
  put(resident: StoredResident): void;
  delete(tenant: string, id: string): boolean;
  /** The residents linked to a device address. */
  ofDevice(tenant: string, address: string): string[];
}

export interface DeviceStore {
  get(tenant: string, address: string): StoredDevice | undefined;
  bySipUser(sipUser: string): StoredDevice | undefined;
  list(tenant: string, options: ListOptions): Page<StoredDevice>;
  put(device: StoredDevice): void;
  delete(tenant: string, address: string): boolean;
}

export interface AccountStore {
  get(tenant: string, id: string): Promise<StoredAccount | undefined>;
  byNumber(tenant: string, number: string): Promise<StoredAccount | undefined>;
  /** The account a verified phone number identifies (verified numbers are unique in a tenant). */
  byVerifiedPhone(tenant: string, e164: string): Promise<StoredAccount | undefined>;
  byWebLogin(tenant: string, login: string): Promise<StoredAccount | undefined>;
  list(tenant: string, options: ListOptions): Promise<Page<StoredAccount>>;
  /** Creates the account; its balance starts at 0 (money comes by credits). */
  insert(account: StoredAccount): Promise<void>;
  /** Changes everything but the balance (which only credits and charges move). */
  update(account: StoredAccount): Promise<void>;
  /** The tenant's account holding a phone number (verified or not), other than `exceptId`. */
  phoneHolder(tenant: string, e164: string, exceptId?: string): Promise<string | undefined>;
  approvals(tenant: string, accountId: string): Promise<Approval[]>;
  approval(tenant: string, accountId: string, residentId: string): Promise<Approval | undefined>;
  setApproval(approval: Approval): Promise<void>;
  deleteApproval(tenant: string, accountId: string, residentId: string): Promise<boolean>;
  /** A deleted resident's approvals (PostgreSQL has no resident rows to cascade from). */
  deleteResidentApprovals(tenant: string, residentId: string): Promise<void>;
}

export interface Credit {
  readonly tenant: string;
  readonly accountId: string;
  /** Idempotency key: a second credit with the same key changes nothing. */
  readonly key: string;
  /** Minor units; negative takes money back (never below a zero balance). */
  readonly amount: number;
  readonly note: string | null;
  readonly actor: string;
  readonly at: number;
}

export type CreditResult =
  | { readonly ok: true; readonly balance: number; readonly duplicate: boolean }
  | { readonly ok: false; readonly reason: 'no_account' | 'insufficient' | 'key_reused' };

export interface MinuteCharge {
  readonly tenant: string;
  readonly accountId: string;
  readonly callId: string;
  /** 1 for the first minute; (callId, minute) is the idempotency key. */
  readonly minute: number;
  readonly amount: number;
  readonly at: number;
}

export type ChargeResult =
  | { readonly ok: true; readonly balance: number; readonly duplicate: boolean }
  | { readonly ok: false; readonly reason: 'insufficient' | 'no_account' | 'no_meter' };

export interface MeterRecord {
  readonly callId: string;
  readonly tenant: string;
  readonly accountId: string;
  readonly ratePerMinute: number;
  readonly connectedAt: number;
  readonly minutesCharged: number;
  readonly state: 'running' | 'ended' | 'interrupted';
  readonly endedAt: number | null;
  readonly endReason: string | null;
}

export interface ChargeRecord {
  readonly callId: string;
  readonly minute: number;
  readonly accountId: string;
  readonly amount: number;
  readonly balanceAfter: number;
  readonly at: number;
}

/** Balances move only here, each change atomic with its record and key. */
export interface BillingStore {
  credit(credit: Credit): Promise<CreditResult>;
  /**
   * Opens the call's meter and charges its first minute in one transaction;
   * a second open of the same call changes nothing and answers its meter.
   */
  openMeter(
    meter: Omit<MeterRecord, 'minutesCharged' | 'state' | 'endedAt' | 'endReason'>,
  ): Promise<ChargeResult>;
  /** Charges one minute of a running meter (idempotent per call and minute). */
  chargeMinute(charge: MinuteCharge): Promise<ChargeResult>;
  closeMeter(callId: string, at: number, reason: string): Promise<MeterRecord | undefined>;
  meter(callId: string): Promise<MeterRecord | undefined>;
  /** Meters a crash left running: marked `interrupted` (their charged minutes stand). */
  closeInterrupted(at: number): Promise<MeterRecord[]>;
  /**
   * Shared stores only (one database, several gateways): the other gateways
   * with running meters, for the cluster's sweeper of lost gateways.
   */
  openOwners?(): Promise<string[]>;
  /**
   * Shared stores only: a lost gateway's running meters marked `interrupted`
   * (`gateway_lost`; their charged minutes stand), once however many survivors ask.
   */
  closeLost?(owner: string, at: number): Promise<MeterRecord[]>;
  charges(tenant: string, callId: string): Promise<ChargeRecord[]>;
  /** An account's charges, newest first. */
  accountCharges(tenant: string, accountId: string, limit: number): Promise<ChargeRecord[]>;
}

export interface DecisionQuery {
  readonly callId?: string | undefined;
  readonly accountId?: string | undefined;
  readonly limit: number;
}

export interface DecisionStore {
  insert(decision: DecisionRecord): Promise<void>;
  get(tenant: string, id: string): Promise<DecisionRecord | undefined>;
  /** Newest first. */
  list(tenant: string, query: DecisionQuery): Promise<DecisionRecord[]>;
}

export interface AuditEntry {
  readonly seq: number;
  readonly tenant: string;
  readonly at: number;
  /** `api:<key id>`, `device:<address>`, `system`. */
  readonly actor: string;
  /** `resident.create`, `account.update`, `account.credit`, `device.credential`… */
  readonly action: string;
  readonly entity: 'resident' | 'device' | 'account' | 'approval';
  readonly entityId: string;
  /** The entity before and after, without secrets (a PIN is `"set"`, never its hash). */
  readonly before: unknown;
  readonly after: unknown;
}

export interface AuditStore {
  append(entry: Omit<AuditEntry, 'seq'>): void;
  /** Newest first. */
  list(
    tenant: string,
    query: { entity?: string; entityId?: string; before?: number; limit: number },
  ): AuditEntry[];
}

export interface PinAttemptState {
  readonly failures: number;
  readonly lastFailureAt: number;
  readonly lockedUntil: number | null;
}

/** Wrong-PIN counts per subject, kept across restarts (a crash must not reset a lockout). */
export interface PinAttemptStore {
  get(subject: string): PinAttemptState | undefined;
  put(subject: string, state: PinAttemptState): void;
  clear(subject: string): void;
}

export interface GatedStore {
  readonly residents: ResidentStore;
  readonly devices: DeviceStore;
  readonly accounts: AccountStore;
  readonly billing: BillingStore;
  readonly decisions: DecisionStore;
  readonly audit: AuditStore;
  readonly pinAttempts: PinAttemptStore;
  /**
   * Runs `work` in one SQLite transaction: for the residents, devices, audit
   * and PIN stores only (an account change commits in its own store call,
   * and its audit entry is appended after it).
   */
  transaction<T>(work: () => T): T;
}
