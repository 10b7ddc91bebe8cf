/**
 * Marketplace calls and their daily counts in PostgreSQL (`storage.kind:
 * postgres`), shared by the gateways: a report or a quality score on any
 * gateway counts the calls placed through every other. Each change of a call
 * and its count are one statement (a data-modifying CTE): the count is added
 * only when the change happened (`ON CONFLICT DO NOTHING`, `… IS NULL`), so
 * two gateways recording, connecting or qualifying one call, or a restart
 * doing it again, count it once, and no crash falls between the two writes.
 * The same contract as `SqliteMarketplaceCallStore` (`call-store.postgres.test.ts`).
 */
import type { PostCheck } from '../../ledger/index.js';
import type { PgPool } from '../../storage/postgres/index.js';
import {
  callOf,
  type CallRow,
  type MarketplaceCall,
  type MarketplaceCallStore,
  type QualifiedMoney,
  type QualifyRecord,
} from '../call-store.js';

/** A statement to run in another transaction (the shared ledger's charge or refund). */
export interface PgWrite {
  readonly sql: string;
  readonly params: readonly unknown[];
}

const COLUMNS =
  'call_id, tenant, kind, listing_id, advertiser_id, publisher_id, impression_id, price, min_connected_seconds, day, started_at, connected_at, qualifies_at, qualified_at, ended_at, charge_key, charged, refunded, refusal, claim';

/** Adds to the day's counts of the rows `c` returned (the calls a statement changed). */
const countChanged = (day: string, columns: string, values: string, where = 'TRUE') =>
  `INSERT INTO mp_daily (day, tenant, listing_id, advertiser_id, publisher_id, ${columns})
   SELECT ${day}::TEXT, tenant, listing_id, advertiser_id, COALESCE(publisher_id, ''), ${values} FROM c WHERE ${where}
   ON CONFLICT (day, listing_id, publisher_id) DO UPDATE SET ${columns
     .split(', ')
     .map((k) => `${k} = mp_daily.${k} + excluded.${k}`)
     .join(', ')}`;

/** Adds to the listing's counts over all time (quality scores) for the rows `c` returned. */
const statChanged = (column: string, where = 'TRUE') =>
  `INSERT INTO mp_listing_stats (listing_id, ${column}) SELECT listing_id, 1 FROM c WHERE ${where}
   ON CONFLICT (listing_id) DO UPDATE SET ${column} = mp_listing_stats.${column} + 1`;

const CHANGED = 'RETURNING tenant, listing_id, advertiser_id, publisher_id';

/**
 * Marks the call qualified and counts it (qualified, spend), only if it was
 * not: one statement, answering one row if it changed the call, none if not.
 */
export function qualifiedWrite(
  callId: string,
  day: string,
  at: number,
  money: QualifiedMoney,
): PgWrite {
  return {
    sql: `WITH c AS (UPDATE mp_calls SET qualified_at = $2, charge_key = $3, charged = $4
            WHERE call_id = $1 AND qualified_at IS NULL ${CHANGED}),
          d AS (${countChanged('$5', 'qualified, spend', '1, $4::BIGINT')}),
          s AS (${statChanged('qualified')})
          SELECT 1 AS changed FROM c`,
    params: [callId, at, money.chargeKey, money.charged, day],
  };
}

/**
 * {@link qualifiedWrite} as a check of the charge's ledger transaction: the
 * money moves only if this charge is what marks the row qualified. A call
 * another gateway recorded qualified meanwhile (its charge refused, charged 0)
 * or whose row is missing refuses the charge (`already_qualified`) and the
 * whole transaction rolls back, so the ledger and the row never disagree.
 */
export function qualifiedCheck(
  callId: string,
  day: string,
  at: number,
  money: QualifiedMoney,
): PostCheck {
  return { ...qualifiedWrite(callId, day, at, money), refusal: 'already_qualified' };
}

/** Adds a refund to the call and takes it off the day's spend: one statement. */
export function refundWrite(callId: string, day: string, amount: number): PgWrite {
  return {
    sql: `WITH c AS (UPDATE mp_calls SET refunded = refunded + $2 WHERE call_id = $1 ${CHANGED}),
          d AS (${countChanged('$3', 'spend', '-$2::BIGINT')})
          SELECT COUNT(*)::INT AS n FROM c`,
    params: [callId, amount, day],
  };
}

export class PgMarketplaceCallStore implements MarketplaceCallStore {
  readonly #pool: PgPool;
  readonly #owner: string;

  /** `owner`: this gateway instance (`shared.instanceId`); it recovers only its own calls. */
  constructor(pool: PgPool, owner: string) {
    this.#pool = pool;
    this.#owner = owner;
  }

  async insert(call: MarketplaceCall, counted: boolean): Promise<boolean> {
    const c = call;
    const { rows } = await this.#pool.query<{ n: number }>(
      `WITH c AS (INSERT INTO mp_calls (${COLUMNS}, owner)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
            ON CONFLICT (call_id) DO NOTHING ${CHANGED}),
          d AS (${countChanged('$10', 'calls', '1', '$22::BOOLEAN')}),
          s AS (${statChanged('calls', '$22::BOOLEAN')})
          SELECT COUNT(*)::INT AS n FROM c`,
      [
        c.callId,
        c.tenant,
        c.kind,
        c.listingId,
        c.advertiserId,
        c.publisherId,
        c.impressionId,
        c.price,
        c.minConnectedSeconds,
        c.day,
        c.startedAt,
        c.connectedAt,
        c.qualifiesAt,
        c.qualifiedAt,
        c.endedAt,
        c.chargeKey,
        c.charged,
        c.refunded,
        c.refusal,
        c.claim,
        this.#owner,
        counted,
      ],
    );
    return (rows[0]?.n ?? 0) > 0;
  }

  async get(callId: string): Promise<MarketplaceCall | undefined> {
    const { rows } = await this.#pool.query<CallRow>(
      `SELECT ${COLUMNS} FROM mp_calls WHERE call_id = $1`,
      [callId],
    );
    return rows[0] ? callOf(rows[0]) : undefined;
  }

  async getMany(callIds: readonly string[]): Promise<Map<string, MarketplaceCall>> {
    if (callIds.length === 0) return new Map();
    const { rows } = await this.#pool.query<CallRow>(
      `SELECT ${COLUMNS} FROM mp_calls WHERE call_id = ANY($1::TEXT[])`,
      [callIds],
    );
    return new Map(rows.map((r) => [r.call_id, callOf(r)]));
  }

  async connect(
    callId: string,
    day: string,
    connectedAt: number,
    qualifiesAt: number,
  ): Promise<boolean> {
    const { rows } = await this.#pool.query<{ n: number }>(
      `WITH c AS (UPDATE mp_calls SET connected_at = $2, qualifies_at = $3
            WHERE call_id = $1 AND connected_at IS NULL ${CHANGED}),
          d AS (${countChanged('$4', 'answered', '1')}),
          s AS (${statChanged('answered')})
          SELECT COUNT(*)::INT AS n FROM c`,
      [callId, connectedAt, qualifiesAt, day],
    );
    return (rows[0]?.n ?? 0) > 0;
  }

  async qualify(
    callId: string,
    day: string,
    at: number,
    money: (call: MarketplaceCall) => QualifiedMoney,
    beforeCommit?: (callId: string) => void,
  ): Promise<QualifyRecord | undefined> {
    const call = await this.get(callId);
    if (!call) return undefined;
    if (call.qualifiedAt !== null) return { call, recorded: false };
    const m = money(call);
    beforeCommit?.(callId);
    const write = qualifiedWrite(callId, day, at, m);
    const { rows } = await this.#pool.query(write.sql, [...write.params]);
    if (rows.length > 0) return { call, recorded: true, money: m };
    // Another gateway qualified it between the read and the write.
    return { call: (await this.get(callId)) ?? call, recorded: false };
  }

  async setEnded(callId: string, at: number): Promise<void> {
    await this.#pool.query(
      'UPDATE mp_calls SET ended_at = $2 WHERE call_id = $1 AND ended_at IS NULL',
      [callId, at],
    );
  }

  async refund(callId: string, day: string, amount: number): Promise<void> {
    const write = refundWrite(callId, day, amount);
    await this.#pool.query(write.sql, [...write.params]);
  }

  open(): Promise<MarketplaceCall[]> {
    return this.#openOf(this.#owner);
  }

  aliveAt(): Promise<number | undefined> {
    return this.#aliveAtOf(this.#owner);
  }

  async openOwners(): Promise<string[]> {
    const { rows } = await this.#pool.query<{ owner: string }>(
      'SELECT DISTINCT owner FROM mp_calls WHERE ended_at IS NULL AND owner <> $1',
      [this.#owner],
    );
    return rows.map((r) => r.owner);
  }

  ownedBy(owner: string): Pick<MarketplaceCallStore, 'open' | 'aliveAt'> {
    return { open: () => this.#openOf(owner), aliveAt: () => this.#aliveAtOf(owner) };
  }

  async #openOf(owner: string): Promise<MarketplaceCall[]> {
    const { rows } = await this.#pool.query<CallRow>(
      `SELECT ${COLUMNS} FROM mp_calls WHERE owner = $1 AND ended_at IS NULL`,
      [owner],
    );
    return rows.map(callOf);
  }

  async #aliveAtOf(owner: string): Promise<number | undefined> {
    const { rows } = await this.#pool.query<{ alive_at: number }>(
      'SELECT alive_at FROM mp_heartbeats WHERE owner = $1',
      [owner],
    );
    return rows[0]?.alive_at;
  }

  async heartbeat(at: number): Promise<void> {
    await this.#pool.query(
      `INSERT INTO mp_heartbeats (owner, alive_at) VALUES ($1, $2)
       ON CONFLICT (owner) DO UPDATE SET alive_at = GREATEST(mp_heartbeats.alive_at, excluded.alive_at)`,
      [this.#owner, at],
    );
  }

  async list(filter: {
    tenant?: string;
    listingId?: string;
    limit: number;
  }): Promise<MarketplaceCall[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    for (const [column, value] of [
      ['tenant', filter.tenant],
      ['listing_id', filter.listingId],
    ] as const) {
      if (value === undefined) continue;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    }
    params.push(filter.limit);
    const { rows } = await this.#pool.query<CallRow>(
      `SELECT ${COLUMNS} FROM mp_calls ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY started_at DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(callOf);
  }
}
