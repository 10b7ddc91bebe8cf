/**
 * What the gated module keeps, behind interfaces: the residents, devices,
 * audit log, wrong-PIN counts, accounts, their money (credits, meters,
 * per-minute charges) and the decisions. With `storage.kind: sqlite` all of
 * it is in the gateway's SQLite file (`sqlite-gated-store.ts`); with
 * `storage.kind: postgres` all of it is in PostgreSQL, shared by every
 * gateway of a cluster (`pg-gated-store.ts`). Every lookup on the call path
 * is by key or index (tenant first), never a scan, so a decision costs the
 * same with 100 accounts or 100,000 (bench/src/gated.ts).
 *
 * Every store answers promises (SQLite's are already resolved). `transaction`
 * writes a resident's or a device's change and its audit entry together or
 * not at all. Each account, billing and decision call is atomic (an account
 * with its phones; a credit or a minute's charge with its balance and
 * idempotency key), and an account change's audit entry is appended once the
 * change committed (a crash between the two loses the entry, never the
 * change). A wrong PIN is counted in one statement (`PinAttemptStore.fail`),
 * so two gateways counting at once both count, and a lockout set by one
 * holds on the other.
 */
import type { DecisionRecord } from '../decision.js';
import type { Approval, Page, StoredAccount, StoredDevice, StoredResident } from '../types.js';

export interface ListOptions {
  /** The last id of the previous page. */
  readonly after?: string | undefined;
  readonly limit: number;
}

export interface ResidentStore {
  get(tenant: string, id: string): Promise<StoredResident | undefined>;
  byNumber(tenant: string, number: string): Promise<StoredResident | undefined>;
  list(tenant: string, options: ListOptions): Promise<Page<StoredResident>>;
  /** Creates or replaces the resident with its device links (devices must exist). */
  put(resident: StoredResident): Promise<void>;
  delete(tenant: string, id: string): Promise<boolean>;
  /** The residents linked to a device address. */
  ofDevice(tenant: string, address: string): Promise<string[]>;
}

export interface DeviceStore {
  get(tenant: string, address: string): Promise<StoredDevice | undefined>;
  bySipUser(sipUser: string): Promise<StoredDevice | undefined>;
  list(tenant: string, options: ListOptions): Promise<Page<StoredDevice>>;
  put(device: StoredDevice): Promise<void>;
  delete(tenant: string, address: string): Promise<boolean>;
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

export interface AuditQuery {
  readonly entity?: string | undefined;
  readonly entityId?: string | undefined;
  /** Entries before this sequence number (the previous page's last). */
  readonly before?: number | undefined;
  readonly limit: number;
}

export interface AuditStore {
  append(entry: Omit<AuditEntry, 'seq'>): Promise<void>;
  /** Newest first. */
  list(tenant: string, query: AuditQuery): Promise<AuditEntry[]>;
}

export interface PinAttemptState {
  readonly failures: number;
  readonly lastFailureAt: number;
  readonly lockedUntil: number | null;
}

/** When wrong PINs in a row lock a subject, and for how long. */
export interface PinLockoutPolicy {
  readonly maxFailures: number;
  readonly lockoutMs: number;
}

/**
 * Wrong-PIN counts per subject, kept across restarts (a crash must not reset
 * a lockout) and, on PostgreSQL, shared by every gateway.
 */
export interface PinAttemptStore {
  get(subject: string): Promise<PinAttemptState | undefined>;
  /**
   * Counts a wrong PIN at `at` in one statement (no read before the write, so
   * wrong PINs counted at once on two gateways both count): the count starts
   * again after a lockout that is over, and reaching `maxFailures` locks the
   * subject until `at + lockoutMs`. Answers the state written.
   */
  fail(subject: string, at: number, policy: PinLockoutPolicy): Promise<PinAttemptState>;
  clear(subject: string): Promise<void>;
}

/** What a `transaction`'s work writes through: the same stores, inside the transaction. */
export type GatedTransactionStores = Pick<GatedStore, 'residents' | 'devices' | 'audit'>;

export interface GatedStore {
  readonly residents: ResidentStore;
  readonly devices: DeviceStore;
  readonly accounts: AccountStore;
  readonly billing: BillingStore;
  readonly decisions: DecisionStore;
  readonly audit: AuditStore;
  readonly pinAttempts: PinAttemptStore;
  /**
   * Runs `work` in one transaction, through the stores it is given (the
   * residents, devices and audit log only: an account change commits in its
   * own store call, and its audit entry is appended after it). On SQLite the
   * work must await nothing but those stores.
   */
  transaction<T>(work: (tx: GatedTransactionStores) => Promise<T>): Promise<T>;
}
