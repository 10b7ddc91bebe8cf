/**
 * Callbacks in the gateway's SQLite file (the embedded default): one gateway
 * owns every row. The rows are read and written synchronously
 * ({@link LocalCallbackRows}, for the fee in the gateway's own ledger: one
 * SQLite transaction with the record); {@link SqliteCallbackStore} is the
 * same behind the asynchronous contract of `store.ts`.
 */
import { ParleyError } from '@parley/shared/errors';
import type { SqliteDatabase } from '../storage/index.js';
import type { CallbackRecord, CallbackState } from './model.js';
import {
  COLUMNS,
  fromRow,
  rateLimited,
  toRow,
  type CallbackCharge,
  type CallbackLimits,
  type CallbackListFilter,
  type CallbackStore,
  type Row,
} from './store.js';

/** The changing fields; a connection is never taken back (an older record's write keeps it). */
const SET_CHANGING = `due_at = @due_at, expires_at = @expires_at, state = @state, outcome = @outcome,
  code = @code, connected_at = COALESCE(connected_at, @connected_at), attempts = @attempts, dialogs = @dialogs,
  ringing = @ringing, updated_at = @updated_at, ended_at = @ended_at`;

/** The callback rows of one SQLite file, synchronously. */
export class LocalCallbackRows {
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
        `UPDATE cb_callbacks SET ${SET_CHANGING} WHERE id = @id AND state <> 'ended'`,
      ),
      saveIf: db.prepare<Row & { from: CallbackState }>(
        `UPDATE cb_callbacks SET ${SET_CHANGING} WHERE id = @id AND state = @from`,
      ),
      charged: db.prepare<{ id: string; at: number; key: string | null; tx: number | null }>(
        `UPDATE cb_callbacks SET charged_at = @at, charge_key = @key, charge_tx = @tx, updated_at = @at
         WHERE id = @id AND charged_at IS NULL AND connected_at IS NOT NULL`,
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

  /** Runs `fn` in one transaction (writes of other modules on the same database join it). */
  atomically<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  insert(record: CallbackRecord, watchHash: string, limits?: CallbackLimits): void {
    if (limits) {
      // One transaction: the counts and the insert, whoever else writes this file.
      this.atomically(() => {
        if (this.countForNumber(record.phone, limits.perNumber.since) >= limits.perNumber.max)
          throw rateLimited('number');
        const { tenant, sessionId, since, max } = limits.perSession;
        if (this.countForSession(tenant, sessionId, since) >= max) throw rateLimited('session');
        this.insert(record, watchHash);
      });
      return;
    }
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

  saveIf(record: CallbackRecord, from: CallbackState): boolean {
    return this.#s.saveIf.run({ ...toRow(record), from }).changes > 0;
  }

  markCharged(id: string, charge: CallbackCharge): boolean {
    return (
      this.#s.charged.run({ id, at: charge.at, key: charge.key, tx: charge.transactionId })
        .changes > 0
    );
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

/** The SQLite rows behind the asynchronous contract (one gateway: `claim` is the state's move). */
export class SqliteCallbackStore implements CallbackStore {
  readonly local: LocalCallbackRows;

  constructor(db: SqliteDatabase) {
    this.local = new LocalCallbackRows(db);
  }

  insert(record: CallbackRecord, watchHash: string, limits?: CallbackLimits): Promise<void> {
    return run(() => this.local.insert(record, watchHash, limits));
  }

  get(id: string): Promise<CallbackRecord | undefined> {
    return run(() => this.local.get(id));
  }

  save(record: CallbackRecord): Promise<void> {
    return run(() => this.local.save(record));
  }

  saveIf(record: CallbackRecord, from: CallbackState): Promise<boolean> {
    return run(() => this.local.saveIf(record, from));
  }

  /** The token is not kept: SQLite's answer is never lost (a throw is a claim that did not land). */
  claim(record: CallbackRecord): Promise<boolean> {
    return this.saveIf(record, 'scheduled');
  }

  markCharged(id: string, charge: CallbackCharge): Promise<boolean> {
    return run(() => this.local.markCharged(id, charge));
  }

  list(filter: CallbackListFilter): Promise<CallbackRecord[]> {
    return run(() => this.local.list(filter));
  }

  scheduled(): Promise<CallbackRecord[]> {
    return run(() => this.local.scheduled());
  }

  inProgress(): Promise<CallbackRecord[]> {
    return run(() => this.local.inProgress());
  }

  uncharged(): Promise<CallbackRecord[]> {
    return run(() => this.local.uncharged());
  }

  countForNumber(phone: string, since: number): Promise<number> {
    return run(() => this.local.countForNumber(phone, since));
  }

  countForSession(tenant: string, sessionId: string, since: number): Promise<number> {
    return run(() => this.local.countForSession(tenant, sessionId, since));
  }

  watchHash(id: string): Promise<string | undefined> {
    return run(() => this.local.watchHash(id));
  }
}

/** A synchronous call as a promise (a throw becomes a rejection). */
function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}
