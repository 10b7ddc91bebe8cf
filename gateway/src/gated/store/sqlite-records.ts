/** Decisions, the audit log and wrong-PIN counts on SQLite. */
import type { SqliteDatabase } from '../../storage/index.js';
import type { DecisionRecord } from '../decision.js';
import type {
  AuditEntry,
  AuditQuery,
  AuditStore,
  DecisionQuery,
  DecisionStore,
  PinAttemptState,
  PinAttemptStore,
  PinLockoutPolicy,
} from './store.js';

/** better-sqlite3 refuses `undefined` named parameters: the query's set ones only. */
const definedOnly = (query: AuditQuery): Record<string, unknown> =>
  Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));

export class SqliteDecisionStore implements DecisionStore {
  readonly #insert;
  readonly #get;
  readonly #recent;
  readonly #byCall;
  readonly #byAccount;

  constructor(db: SqliteDatabase) {
    this.#insert = db.prepare(
      `INSERT INTO gated_decisions (id, tenant, call_id, stage, at, allowed, decided_by, failed,
         account_id, resident_id, body)
       VALUES (@id, @tenant, @call_id, @stage, @at, @allowed, @decided_by, @failed, @account_id,
         @resident_id, @body)`,
    );
    const body = (sql: string) => db.prepare(sql).pluck();
    this.#get = body('SELECT body FROM gated_decisions WHERE tenant = ? AND id = ?');
    this.#recent = body(
      'SELECT body FROM gated_decisions WHERE tenant = ? ORDER BY at DESC, seq DESC LIMIT ?',
    );
    this.#byCall = body(
      'SELECT body FROM gated_decisions WHERE tenant = ? AND call_id = ? ORDER BY at DESC, seq DESC LIMIT ?',
    );
    this.#byAccount = body(
      'SELECT body FROM gated_decisions WHERE tenant = ? AND account_id = ? ORDER BY at DESC, seq DESC LIMIT ?',
    );
  }

  async insert(d: DecisionRecord): Promise<void> {
    this.#insert.run({
      id: d.id,
      tenant: d.tenant,
      call_id: d.callId,
      stage: d.stage,
      at: d.at,
      allowed: d.allowed ? 1 : 0,
      decided_by: d.decidedBy,
      failed: d.failed,
      account_id: d.accountId,
      resident_id: d.residentId,
      body: JSON.stringify(d),
    });
  }

  async get(tenant: string, id: string): Promise<DecisionRecord | undefined> {
    const body = this.#get.get(tenant, id) as string | undefined;
    return body === undefined ? undefined : (JSON.parse(body) as DecisionRecord);
  }

  async list(tenant: string, query: DecisionQuery): Promise<DecisionRecord[]> {
    const rows = (
      query.callId !== undefined
        ? this.#byCall.all(tenant, query.callId, query.limit)
        : query.accountId !== undefined
          ? this.#byAccount.all(tenant, query.accountId, query.limit)
          : this.#recent.all(tenant, query.limit)
    ) as string[];
    return rows.map((b) => JSON.parse(b) as DecisionRecord);
  }
}

interface AuditRow {
  seq: number;
  tenant: string;
  at: number;
  actor: string;
  action: string;
  entity: string;
  entity_id: string;
  before: string | null;
  after: string | null;
}

export class SqliteAuditStore implements AuditStore {
  readonly #append;
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#append = db.prepare(
      `INSERT INTO gated_audit (tenant, at, actor, action, entity, entity_id, before, after)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  async append(e: Omit<AuditEntry, 'seq'>): Promise<void> {
    this.#append.run(
      e.tenant,
      e.at,
      e.actor,
      e.action,
      e.entity,
      e.entityId,
      e.before === null || e.before === undefined ? null : JSON.stringify(e.before),
      e.after === null || e.after === undefined ? null : JSON.stringify(e.after),
    );
  }

  async list(tenant: string, query: AuditQuery): Promise<AuditEntry[]> {
    const where = ['tenant = @tenant'];
    if (query.entity !== undefined) where.push('entity = @entity');
    if (query.entityId !== undefined) where.push('entity_id = @entityId');
    if (query.before !== undefined) where.push('seq < @before');
    const rows = this.#db
      .prepare<Record<string, unknown>, AuditRow>(
        `SELECT * FROM gated_audit WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT @limit`,
      )
      .all({ tenant, ...definedOnly(query) });
    return rows.map((r) => ({
      seq: r.seq,
      tenant: r.tenant,
      at: r.at,
      actor: r.actor,
      action: r.action,
      entity: r.entity as AuditEntry['entity'],
      entityId: r.entity_id,
      before: r.before === null ? null : (JSON.parse(r.before) as unknown),
      after: r.after === null ? null : (JSON.parse(r.after) as unknown),
    }));
  }
}

interface PinAttemptRow {
  failures: number;
  last_failure_at: number;
  locked_until: number | null;
}

const pinState = (row: PinAttemptRow): PinAttemptState => ({
  failures: row.failures,
  lastFailureAt: row.last_failure_at,
  lockedUntil: row.locked_until,
});

export class SqlitePinAttemptStore implements PinAttemptStore {
  readonly #get;
  readonly #fail;
  readonly #clear;

  constructor(db: SqliteDatabase) {
    this.#get = db.prepare<[string], PinAttemptRow>(
      'SELECT failures, last_failure_at, locked_until FROM gated_pin_attempts WHERE subject = ?',
    );
    // The same statement as PostgreSQL's (postgres/pg-records.ts): the count and the lockout in one write.
    this.#fail = db.prepare<
      { subject: string; at: number; max: number; lockout: number },
      PinAttemptRow
    >(
      `INSERT INTO gated_pin_attempts AS p (subject, failures, last_failure_at, locked_until)
       VALUES (@subject, 1, @at, CASE WHEN 1 >= @max THEN @at + @lockout END)
       ON CONFLICT (subject) DO UPDATE SET
         failures = CASE WHEN p.locked_until <= @at THEN 1 ELSE p.failures + 1 END,
         last_failure_at = @at,
         locked_until = CASE WHEN (CASE WHEN p.locked_until <= @at THEN 1 ELSE p.failures + 1 END) >= @max
           THEN @at + @lockout END
       RETURNING failures, last_failure_at, locked_until`,
    );
    this.#clear = db.prepare('DELETE FROM gated_pin_attempts WHERE subject = ?');
  }

  async get(subject: string): Promise<PinAttemptState | undefined> {
    const row = this.#get.get(subject);
    return row ? pinState(row) : undefined;
  }

  async fail(subject: string, at: number, policy: PinLockoutPolicy): Promise<PinAttemptState> {
    const row = this.#fail.get({
      subject,
      at,
      max: policy.maxFailures,
      lockout: policy.lockoutMs,
    });
    if (!row) throw new Error('gated_pin_attempts: the upsert returned no row');
    return pinState(row);
  }

  async clear(subject: string): Promise<void> {
    this.#clear.run(subject);
  }
}
