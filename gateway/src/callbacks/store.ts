/**
 * Where callbacks are kept (SQLite now, PostgreSQL later): the records, the
 * queries the scheduler and the rate limits need, and a transaction for the
 * fee (the ledger's posting and the record's charge together).
 */
import { ParleyError } from '@parley/shared/errors';
import type { SqliteDatabase, StoredDialog } from '../storage/index.js';
import type { StoredInvite } from '../calls/index.js';
import type {
  AdvertiserTarget,
  CallbackAttempt,
  CallbackMode,
  CallbackOutcome,
  CallbackRecord,
  CallbackState,
} from './model.js';

export interface CallbackListFilter {
  readonly tenant?: string | undefined;
  readonly state?: CallbackState | undefined;
  readonly limit: number;
  /** Only callbacks created before this (paging, newest first). */
  readonly before?: number | undefined;
}

export interface CallbackStore {
  /** Runs `fn` in one transaction (writes of other modules on the same database join it). */
  atomically<T>(fn: () => T): T;
  /** Stores a new callback; `conflict` when its token was used before. */
  insert(record: CallbackRecord, watchHash: string): void;
  get(id: string): CallbackRecord | undefined;
  /** Writes the record's changing fields (state, attempts, charge, due time). */
  save(record: CallbackRecord): void;
  list(filter: CallbackListFilter): CallbackRecord[];
  /** Callbacks waiting to run (state scheduled), soonest first. */
  scheduled(): CallbackRecord[];
  /** Callbacks a stop left between scheduled and ended. */
  inProgress(): CallbackRecord[];
  /** Ended callbacks that connected and were not charged (the shared ledger was down). */
  uncharged(): CallbackRecord[];
  /** Callbacks asked for this number since `since` (every state). */
  countForNumber(phone: string, since: number): number;
  /** Callbacks asked by this web session since `since`. */
  countForSession(tenant: string, sessionId: string, since: number): number;
  /** The SHA-256 of the watch key the requester got (hex). */
  watchHash(id: string): string | undefined;
}

interface Row {
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

const COLUMNS =
  'id, tenant, destination, listing_id, advertiser_id, advertiser_name, target, phone, caller_number, session_id, origin, page, impression_id, token_id, mode, due_at, expires_at, state, outcome, code, fee, currency, connected_at, charged_at, charge_key, charge_tx, attempts, dialogs, ringing, private_claims, created_at, updated_at, ended_at';

function toRow(r: CallbackRecord): Row {
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

function fromRow(row: Row): CallbackRecord {
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

export class SqliteCallbackStore implements CallbackStore {
  readonly #db: SqliteDatabase;
  readonly #s;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    const names = COLUMNS.split(', ');
    this.#s = {
      insert: db.prepare<Row & { watch_hash: string }>(
        `INSERT INTO cb_callbacks (${COLUMNS}, watch_hash) VALUES (${names.map((n) => `@${n}`).join(', ')}, @watch_hash)`,
      ),
      save: db.prepare<Row>(
        `UPDATE cb_callbacks SET due_at = @due_at, expires_at = @expires_at, state = @state, outcome = @outcome,
           code = @code, connected_at = @connected_at, charged_at = @charged_at, charge_key = @charge_key,
           charge_tx = @charge_tx, attempts = @attempts, dialogs = @dialogs, ringing = @ringing, updated_at = @updated_at, ended_at = @ended_at
         WHERE id = @id`,
      ),
      get: db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM cb_callbacks WHERE id = ?`),
      scheduled: db.prepare<[], Row>(
        `SELECT ${COLUMNS} FROM cb_callbacks WHERE state = 'scheduled' ORDER BY due_at, created_at`,
      ),
      inProgress: db.prepare<[], Row>(
        `SELECT ${COLUMNS} FROM cb_callbacks WHERE state NOT IN ('scheduled', 'ended')`,
      ),
      uncharged: db.prepare<[], Row>(
        `SELECT ${COLUMNS} FROM cb_callbacks
         WHERE state = 'ended' AND connected_at IS NOT NULL AND charged_at IS NULL`,
      ),
      forNumber: db.prepare<[string, number], { n: number }>(
        'SELECT count(*) AS n FROM cb_callbacks WHERE phone = ? AND created_at >= ?',
      ),
      forSession: db.prepare<[string, string, number], { n: number }>(
        'SELECT count(*) AS n FROM cb_callbacks WHERE tenant = ? AND session_id = ? AND created_at >= ?',
      ),
      watch: db.prepare<[string], { watch_hash: string }>(
        'SELECT watch_hash FROM cb_callbacks WHERE id = ?',
      ),
    };
  }

  atomically<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  insert(record: CallbackRecord, watchHash: string): void {
    try {
      this.#s.insert.run({ ...toRow(record), watch_hash: watchHash });
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw new ParleyError('replayed', 'this callback token was used already', {
          expose: true,
        });
      throw error;
    }
  }

  get(id: string): CallbackRecord | undefined {
    const row = this.#s.get.get(id);
    return row ? fromRow(row) : undefined;
  }

  save(record: CallbackRecord): void {
    this.#s.save.run(toRow(record));
  }

  list(filter: CallbackListFilter): CallbackRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.tenant !== undefined) {
      where.push('tenant = ?');
      args.push(filter.tenant);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      args.push(filter.state);
    }
    if (filter.before !== undefined) {
      where.push('created_at < ?');
      args.push(filter.before);
    }
    const sql = `SELECT ${COLUMNS} FROM cb_callbacks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT ?`;
    return this.#db
      .prepare<(string | number)[], Row>(sql)
      .all(...args, filter.limit)
      .map(fromRow);
  }

  scheduled(): CallbackRecord[] {
    return this.#s.scheduled.all().map(fromRow);
  }

  inProgress(): CallbackRecord[] {
    return this.#s.inProgress.all().map(fromRow);
  }

  uncharged(): CallbackRecord[] {
    return this.#s.uncharged.all().map(fromRow);
  }

  countForNumber(phone: string, since: number): number {
    return this.#s.forNumber.get(phone, since)?.n ?? 0;
  }

  countForSession(tenant: string, sessionId: string, since: number): number {
    return this.#s.forSession.get(tenant, sessionId, since)?.n ?? 0;
  }

  watchHash(id: string): string | undefined {
    return this.#s.watch.get(id)?.watch_hash;
  }
}
