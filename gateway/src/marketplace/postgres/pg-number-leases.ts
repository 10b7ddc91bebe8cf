/**
 * A tenant's tracking-number leases agreed in PostgreSQL by every gateway
 * (`storage.kind: postgres`): one row per number of the pool with the end of
 * its latest lease. A lease takes the free number released longest ago
 * (never leased first: end 0) under its row lock, `FOR UPDATE SKIP LOCKED`,
 * so two gateways leasing at once take two different numbers and never one
 * that another gateway's impression still holds. O(log n) per lease (the
 * index on tenant, end).
 */
import type { PgPool } from '../../storage/postgres/index.js';
import type { Lease } from '../number-pool.js';
import type { NumberLeases } from '../number-leases.js';

export class PgNumberLeases implements NumberLeases {
  readonly #pool: PgPool;
  readonly #tenant: string;
  readonly #numbers: readonly string[];
  readonly #leaseMs: number;
  readonly #history: () => Promise<{ number: string; end: number }[]>;

  constructor(
    pool: PgPool,
    tenant: string,
    numbers: readonly string[],
    leaseSeconds: number,
    history: () => Promise<{ number: string; end: number }[]> = async () => [],
  ) {
    this.#pool = pool;
    this.#tenant = tenant;
    this.#numbers = numbers;
    this.#leaseMs = leaseSeconds * 1000;
    this.#history = history;
  }

  get size(): number {
    return this.#numbers.length;
  }

  /** Adds the pool's numbers not yet in the table, with the end of their last lease in the impression log. */
  async start(): Promise<void> {
    if (this.#numbers.length === 0) return;
    const ends = new Map((await this.#history()).map((h) => [h.number, h.end]));
    await this.#pool.query(
      `INSERT INTO mp_number_leases (number, tenant, lease_end)
       SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::BIGINT[])
       ON CONFLICT (number) DO UPDATE SET tenant = excluded.tenant`,
      [
        this.#numbers,
        this.#numbers.map(() => this.#tenant),
        this.#numbers.map((n) => ends.get(n) ?? 0),
      ],
    );
  }

  async lease(now: number): Promise<Lease | undefined> {
    return (await this.leaseMany(now, 1))[0];
  }

  /**
   * One statement for a placement's slots: the `count` free numbers released
   * longest ago, locked and leased together. Their `seq` is the sequence's
   * next value times 32 plus their rank, so leases taken later still order
   * after, and these among themselves in the order they were handed out.
   */
  async leaseMany(now: number, count: number): Promise<Lease[]> {
    if (count <= 0) return [];
    if (count > 31) throw new Error('at most 31 numbers per placement');
    const end = now + this.#leaseMs;
    const { rows } = await this.#pool.query<{ number: string; k: number }>(
      `WITH f AS (
         SELECT number, lease_end, seq FROM mp_number_leases
         WHERE tenant = $1 AND lease_end <= $2 AND number = ANY($4::TEXT[])
         ORDER BY lease_end, seq, number LIMIT $5 FOR UPDATE SKIP LOCKED
       ), r AS (
         SELECT number, row_number() OVER (ORDER BY lease_end, seq, number) AS k FROM f
       ), b AS (SELECT nextval('mp_number_lease_seq') AS base)
       UPDATE mp_number_leases m SET lease_end = $3, seq = b.base * 32 + r.k
       FROM r, b WHERE m.number = r.number
       RETURNING m.number, r.k`,
      [this.#tenant, now, end, this.#numbers, count],
    );
    return rows
      .sort((x, y) => Number(x.k) - Number(y.k))
      .map((r) => ({ number: r.number, start: now, end }));
  }

  async leasedAt(now: number): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(
      `SELECT COUNT(*)::INT AS n FROM mp_number_leases
       WHERE tenant = $1 AND lease_end > $2 AND number = ANY($3::TEXT[])`,
      [this.#tenant, now, this.#numbers],
    );
    return rows[0]?.n ?? 0;
  }
}
