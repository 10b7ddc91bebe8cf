/**
 * Where callbacks are kept: the contract both stores keep (asynchronous, for
 * PostgreSQL), and the row both read and write (JSON as TEXT, times as epoch
 * milliseconds). SQLite (`sqlite-store.ts`) is the embedded default;
 * PostgreSQL (`pg-store.ts`, `storage.kind: postgres`) is shared by every
 * gateway: a callback asked through one is read, cancelled and charged
 * through any, and run by exactly one (`claim`).
 */
import { ParleyError } from '@parley/shared/errors';
import type { StoredDialog } from '../storage/index.js';
import type { StoredInvite } from '../calls/index.js';
import type {
  AdvertiserTarget,
  CallbackAttempt,
  CallbackMode,
  CallbackOutcome,
  CallbackRecord,
  CallbackState,
} from './model.js';
import type { LocalCallbackRows } from './sqlite-store.js';

/** The `rate_limited` refusal of a request over one of its {@link CallbackLimits}. */
export function rateLimited(limit: 'number' | 'session'): ParleyError {
  return new ParleyError(
    'rate_limited',
    limit === 'number'
      ? 'too many callbacks asked for this number'
      : 'too many callbacks asked by this session',
    { expose: true },
  );
}

export interface CallbackListFilter {
  readonly tenant?: string | undefined;
  readonly state?: CallbackState | undefined;
  readonly limit: number;
  /** Only callbacks created before this (paging, newest first). */
  readonly before?: number | undefined;
}

/** What marks a callback charged (`chargedAt`; the key and transaction when money moved). */
export interface CallbackCharge {
  readonly at: number;
  readonly key: string | null;
  readonly transactionId: number | null;
}

/** A write run inside the shared ledger's transaction (`PostGuard.writes`). */
export interface ChargeWrite {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * The rate limits a new callback is counted against, with the insert in one
 * step (on PostgreSQL, across gateways): of concurrent requests, `max` pass.
 */
export interface CallbackLimits {
  /** Callbacks asked for the record's number since `since` (every state). */
  readonly perNumber: { readonly since: number; readonly max: number };
  /** Callbacks asked by this web session since `since`. */
  readonly perSession: {
    readonly tenant: string;
    readonly sessionId: string;
    readonly since: number;
    readonly max: number;
  };
}

export interface CallbackStore {
  /**
   * Stores a new callback; `replayed` when its token was used before,
   * `rate_limited` (nothing stored) when `limits` are reached.
   */
  insert(record: CallbackRecord, watchHash: string, limits?: CallbackLimits): Promise<void>;
  get(id: string): Promise<CallbackRecord | undefined>;
  /**
   * Writes the record's changing fields (state, attempts, due time; never the
   * charge's), unless it ended: an end is final. A connection is never taken
   * back (`connectedAt` is kept when the record written has none).
   */
  save(record: CallbackRecord): Promise<void>;
  /**
   * Writes the record only while its stored state is `from`; false when it
   * was not (another gateway or request moved it first).
   */
  saveIf(record: CallbackRecord, from: CallbackState): Promise<boolean>;
  /**
   * Takes a scheduled callback for this gateway's next attempt: writes
   * `record` (state `calling`) only if the stored one is still scheduled
   * and (PostgreSQL) this gateway's. False: someone else has it, or it ended.
   * `token` is this claim's own (PostgreSQL keeps it in the row): asked
   * `again` with it after an error (the answer lost: the COMMIT may have
   * landed), true also when the row is `calling` by this very claim.
   */
  claim(record: CallbackRecord, token: string, again?: boolean): Promise<boolean>;
  /** Marks a connected, uncharged callback charged; false when it was charged already. */
  markCharged(id: string, charge: CallbackCharge): Promise<boolean>;
  list(filter: CallbackListFilter): Promise<CallbackRecord[]>;
  /** This gateway's callbacks waiting to run (state scheduled), soonest first. */
  scheduled(): Promise<CallbackRecord[]>;
  /** This gateway's callbacks a stop left between scheduled and ended. */
  inProgress(): Promise<CallbackRecord[]>;
  /** Ended callbacks that connected and were not charged (the shared ledger was down). */
  uncharged(): Promise<CallbackRecord[]>;
  /** Callbacks asked for this number since `since` (every state). */
  countForNumber(phone: string, since: number): Promise<number>;
  /** Callbacks asked by this web session since `since`. */
  countForSession(tenant: string, sessionId: string, since: number): Promise<number>;
  /** The SHA-256 of the watch key the requester got (hex). */
  watchHash(id: string): Promise<string | undefined>;
  /**
   * SQLite: the same rows, synchronously, for the fee posted in the
   * gateway's own ledger in one SQLite transaction with the record.
   */
  readonly local?: LocalCallbackRows | undefined;
  /**
   * PostgreSQL: the write that marks the record charged, run inside the
   * shared ledger's posting (one transaction: the money and the record).
   */
  chargeWrite?(id: string, key: string, at: number): ChargeWrite;
  /** PostgreSQL: the records of other gateways (a lost gateway's, `lost.ts`). */
  readonly shared?: SharedCallbackRows | undefined;
}

/** What a survivor needs of a lost gateway's callbacks (PostgreSQL only). */
export interface SharedCallbackRows {
  /** Gateways with callbacks not ended (scheduled or in progress). */
  openOwners(): Promise<string[]>;
  /** A gateway's callbacks between scheduled and ended. */
  inProgressOf(owner: string): Promise<CallbackRecord[]>;
  /** Makes a gateway's scheduled callbacks this one's; answers those it took. */
  adopt(owner: string): Promise<CallbackRecord[]>;
}

export interface Row {
  id: string;
  tenant: string;
  destination: string;
  listing_id: string | null;
  advertiser_id: string | null;
  advertiser_name: string;
  target: string;
  phone: string;
  caller_number: string;
  session_id: string;
  origin: string;
  page: string | null;
  impression_id: string | null;
  token_id: string;
  mode: CallbackMode;
  due_at: number;
  expires_at: number | null;
  state: CallbackState;
  outcome: CallbackOutcome | null;
  code: string | null;
  fee: number;
  currency: string;
  connected_at: number | null;
  charged_at: number | null;
  charge_key: string | null;
  charge_tx: number | null;
  attempts: string;
  dialogs: string;
  ringing: string;
  private_claims: string;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
}

export const COLUMNS =
  'id, tenant, destination, listing_id, advertiser_id, advertiser_name, target, phone, caller_number, session_id, origin, page, impression_id, token_id, mode, due_at, expires_at, state, outcome, code, fee, currency, connected_at, charged_at, charge_key, charge_tx, attempts, dialogs, ringing, private_claims, created_at, updated_at, ended_at';

export function toRow(r: CallbackRecord): Row {
  return {
    id: r.id,
    tenant: r.tenant,
    destination: r.destination,
    listing_id: r.listingId,
    advertiser_id: r.advertiserId,
    advertiser_name: r.advertiserName,
    target: JSON.stringify(r.target),
    phone: r.phone,
    caller_number: r.callerNumber,
    session_id: r.sessionId,
    origin: r.origin,
    page: r.page,
    impression_id: r.impressionId,
    token_id: r.tokenId,
    mode: r.mode,
    due_at: r.dueAt,
    expires_at: r.expiresAt,
    state: r.state,
    outcome: r.outcome,
    code: r.code,
    fee: r.feeCents,
    currency: r.currency,
    connected_at: r.connectedAt,
    charged_at: r.chargedAt,
    charge_key: r.chargeKey,
    charge_tx: r.chargeTransactionId,
    attempts: JSON.stringify(r.attempts),
    dialogs: JSON.stringify(r.dialogs),
    ringing: JSON.stringify(r.ringing),
    private_claims: JSON.stringify(r.privateClaims),
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    ended_at: r.endedAt,
  };
}

export function fromRow(row: Row): CallbackRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    destination: row.destination,
    listingId: row.listing_id,
    advertiserId: row.advertiser_id,
    advertiserName: row.advertiser_name,
    target: JSON.parse(row.target) as AdvertiserTarget,
    phone: row.phone,
    callerNumber: row.caller_number,
    sessionId: row.session_id,
    origin: row.origin,
    page: row.page,
    impressionId: row.impression_id,
    tokenId: row.token_id,
    mode: row.mode,
    dueAt: row.due_at,
    expiresAt: row.expires_at,
    state: row.state,
    outcome: row.outcome,
    code: row.code,
    feeCents: row.fee,
    currency: row.currency,
    connectedAt: row.connected_at,
    chargedAt: row.charged_at,
    chargeKey: row.charge_key,
    chargeTransactionId: row.charge_tx,
    attempts: JSON.parse(row.attempts) as CallbackAttempt[],
    dialogs: JSON.parse(row.dialogs) as StoredDialog[],
    ringing: JSON.parse(row.ringing) as StoredInvite[],
    privateClaims: JSON.parse(row.private_claims) as Record<string, unknown>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
  };
}
