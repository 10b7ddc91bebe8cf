/**
 * The audit log and the wrong-PIN counts in PostgreSQL (`storage.kind:
 * postgres`), shared by every gateway: a PIN lockout set through one gateway
 * holds on all of them, and the audit log is the cluster's.
 */
import type {
  AuditEntry,
  AuditQuery,
  AuditStore,
  PinAttemptState,
  PinAttemptStore,
  PinLockoutPolicy,
} from '../store.js';
import type { PgQueryable } from './pg-queryable.js';

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

const json = (value: unknown): string | null =>
  value === null || value === undefined ? null : JSON.stringify(value);

export class PgAuditStore implements AuditStore {
  readonly #db: PgQueryable;

  /** `db`: the pool, or the connection of a transaction (`GatedStore.transaction`). */
  constructor(db: PgQueryable) {
    this.#db = db;
  }

  async append(e: Omit<AuditEntry, 'seq'>): Promise<void> {
    await this.#db.query(
      `INSERT INTO gated_audit (tenant, at, actor, action, entity, entity_id, before, after)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [e.tenant, e.at, e.actor, e.action, e.entity, e.entityId, json(e.before), json(e.after)],
    );
  }

  async list(tenant: string, query: AuditQuery): Promise<AuditEntry[]> {
    const { rows } = await this.#db.query<AuditRow>(
      `SELECT * FROM gated_audit WHERE tenant = $1
         AND ($2::text IS NULL OR entity = $2) AND ($3::text IS NULL OR entity_id = $3)
         AND ($4::bigint IS NULL OR seq < $4)
       ORDER BY seq DESC LIMIT $5`,
      [tenant, query.entity ?? null, query.entityId ?? null, query.before ?? null, query.limit],
    );
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

/** A lockout that is over starts the count again. */
const COUNT = 'CASE WHEN p.locked_until <= $2 THEN 1 ELSE p.failures + 1 END';

export class PgPinAttemptStore implements PinAttemptStore {
  readonly #db: PgQueryable;

  constructor(db: PgQueryable) {
    this.#db = db;
  }

  async get(subject: string): Promise<PinAttemptState | undefined> {
    const { rows } = await this.#db.query<PinAttemptRow>(
      'SELECT failures, last_failure_at, locked_until FROM gated_pin_attempts WHERE subject = $1',
      [subject],
    );
    return rows[0] ? pinState(rows[0]) : undefined;
  }

  /**
   * One upsert: the row is locked while it is counted, so wrong PINs counted
   * at once by two gateways are two failures, and the one reaching
   * `maxFailures` writes the lockout both then read.
   */
  async fail(subject: string, at: number, policy: PinLockoutPolicy): Promise<PinAttemptState> {
    const { rows } = await this.#db.query<PinAttemptRow>(
      `INSERT INTO gated_pin_attempts AS p (subject, failures, last_failure_at, locked_until)
       VALUES ($1, 1, $2, CASE WHEN 1 >= $3::int THEN $2::bigint + $4::bigint END)
       ON CONFLICT (subject) DO UPDATE SET
         failures = ${COUNT},
         last_failure_at = $2,
         locked_until = CASE WHEN ${COUNT} >= $3::int THEN $2::bigint + $4::bigint END
       RETURNING failures, last_failure_at, locked_until`,
      [subject, at, policy.maxFailures, policy.lockoutMs],
    );
    const row = rows[0];
    if (!row) throw new Error('gated_pin_attempts: the upsert returned no row');
    return pinState(row);
  }

  async clear(subject: string): Promise<void> {
    await this.#db.query('DELETE FROM gated_pin_attempts WHERE subject = $1', [subject]);
  }
}
