/** The Gate's decisions in PostgreSQL (`storage.kind: postgres`): any gateway answers for a call. */
import type { PgPool } from '../../../storage/postgres/index.js';
import type { DecisionRecord } from '../../decision.js';
import type { DecisionQuery, DecisionStore } from '../store.js';

export class PgDecisionStore implements DecisionStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async insert(d: DecisionRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO gated_decisions (id, tenant, call_id, stage, at, allowed, decided_by, failed,
         account_id, resident_id, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        d.id,
        d.tenant,
        d.callId,
        d.stage,
        d.at,
        d.allowed,
        d.decidedBy,
        d.failed,
        d.accountId,
        d.residentId,
        JSON.stringify(d),
      ],
    );
  }

  async get(tenant: string, id: string): Promise<DecisionRecord | undefined> {
    const { rows } = await this.#pool.query<{ body: string }>(
      'SELECT body FROM gated_decisions WHERE tenant = $1 AND id = $2',
      [tenant, id],
    );
    return rows[0] ? (JSON.parse(rows[0].body) as DecisionRecord) : undefined;
  }

  async list(tenant: string, query: DecisionQuery): Promise<DecisionRecord[]> {
    const [where, params] =
      query.callId !== undefined
        ? ['AND call_id = $2', [query.callId]]
        : query.accountId !== undefined
          ? ['AND account_id = $2', [query.accountId]]
          : ['', []];
    const { rows } = await this.#pool.query<{ body: string }>(
      `SELECT body FROM gated_decisions WHERE tenant = $1 ${where}
       ORDER BY at DESC, seq DESC LIMIT $${params.length + 2}`,
      [tenant, ...params, query.limit],
    );
    return rows.map((r) => JSON.parse(r.body) as DecisionRecord);
  }
}
