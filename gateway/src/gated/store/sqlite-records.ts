/** Decisions, the audit log and wrong-PIN counts on SQLite. */
import type { SqliteDatabase } from '../../storage/index.js';
import type { DecisionRecord } from '../decision.js';
import type {
  AuditEntry,
  AuditStore,
  DecisionQuery,
  DecisionStore,
  PinAttemptState,
  PinAttemptStore,
} from './store.js';

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

  append(e: Omit<AuditEntry, 'seq'>): void {
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

  list(
    tenant: string,
    query: { entity?: string; entityId?: string; before?: number; limit: number },
  ): AuditEntry[] {
    const where = ['tenant = @tenant'];
    if (query.entity !== undefined) where.push('entity = @entity');
    if (query.entityId !== undefined) where.push('entity_id = @entityId');
    if (query.before !== undefined) where.push('seq < @before');
    const rows = this.#db
      .prepare<Record<string, unknown>, AuditRow>(
        `SELECT * FROM gated_audit WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT @limit`,
      )
      .all({ tenant, ...query });
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

export class SqlitePinAttemptStore implements PinAttemptStore {
  readonly #get;
  readonly #put;
  readonly #clear;

  constructor(db: SqliteDatabase) {
    this.#get = db.prepare<
      [string],
      { failures: number; last_failure_at: number; locked_until: number | null }
    >('SELECT failures, last_failure_at, locked_until FROM gated_pin_attempts WHERE subject = ?');
    this.#put = db.prepare(
      `INSERT INTO gated_pin_attempts (subject, failures, last_failure_at, locked_until) VALUES (?, ?, ?, ?)
       ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures,
         last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until`,
    );
    this.#clear = db.prepare('DELETE FROM gated_pin_attempts WHERE subject = ?');
  }

  get(subject: string): PinAttemptState | undefined {
    const row = this.#get.get(subject);
    return row
      ? {
          failures: row.failures,
          lastFailureAt: row.last_failure_at,
          lockedUntil: row.locked_until,
        }
      : undefined;
  }

  put(subject: string, state: PinAttemptState): void {
    this.#put.run(subject, state.failures, state.lastFailureAt, state.lockedUntil);
  }

  clear(subject: string): void {
    this.#clear.run(subject);
  }
}
