/**
 * Reports and quality statistics from the cluster's daily counts in
 * PostgreSQL (`mp_daily`, written by every gateway: `pg-call-store.ts`,
 * `pg-impression-store.ts`): a report on one gateway shows the calls and
 * impressions of all.
 */
import type { PgPool } from '../../storage/postgres/index.js';
import type { ListingStats } from '../model.js';
import {
  reportRowOf,
  reportSql,
  type DailySums,
  type ReportQuery,
  type ReportRow,
  type ReportStore,
} from '../reports.js';

export class PgReportStore implements ReportStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async daily(q: ReportQuery): Promise<ReportRow[]> {
    const { sql, params } = reportSql(q);
    let n = 0;
    const { rows } = await this.#pool.query<DailySums>(
      sql.replace(/\?/g, () => `$${(n += 1)}`),
      params,
    );
    return rows.map(reportRowOf);
  }

  /** One row per listing (`mp_listing_stats`, kept with the daily counts), not a sum over the days. */
  async stats(): Promise<Map<string, ListingStats>> {
    const { rows } = await this.#pool.query<{
      listing_id: string;
      calls: number;
      answered: number;
      qualified: number;
    }>('SELECT listing_id, calls, answered, qualified FROM mp_listing_stats');
    return new Map(
      rows.map((r) => [
        r.listing_id,
        { calls: Number(r.calls), answered: Number(r.answered), qualified: Number(r.qualified) },
      ]),
    );
  }

  async spendOn(day: string): Promise<Map<string, number>> {
    const { rows } = await this.#pool.query<{ listing_id: string; spend: string }>(
      'SELECT listing_id, SUM(spend) AS spend FROM mp_daily WHERE day = $1 GROUP BY listing_id',
      [day],
    );
    return new Map(rows.map((r) => [r.listing_id, Number(r.spend)]));
  }
}
