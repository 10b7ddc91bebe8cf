/**
 * Reports per listing, advertiser or publisher, per day: impressions, calls,
 * answered and qualified calls, spend, cost per qualified call, answer rate.
 * Read from the daily counts (`mp_daily`) that placements and billing keep in
 * the same transactions as their records, so a report never scans the
 * impression log.
 */
import type { SqliteDatabase } from '../storage/index.js';
import type { ListingStats } from './model.js';

export type ReportSubject = 'listing' | 'advertiser' | 'publisher';

export interface ReportRow {
  readonly day: string;
  /** The listing, advertiser or publisher id ('' for calls without a publisher). */
  readonly id: string;
  readonly impressions: number;
  readonly calls: number;
  readonly answered: number;
  readonly qualified: number;
  readonly spendCents: number;
  /** Spend per qualified call (null without one). */
  readonly costPerCallCents: number | null;
  /** Answered / calls (null without calls). */
  readonly answerRate: number | null;
}

export interface ReportQuery {
  readonly subject: ReportSubject;
  readonly tenant?: string | undefined;
  /** One listing, advertiser or publisher; all of the subject when absent. */
  readonly id?: string | undefined;
  /** Inclusive `YYYY-MM-DD` bounds. */
  readonly from: string;
  readonly to: string;
}

/**
 * The daily counts as reports and quality scores read them: the gateway's
 * SQLite file, or PostgreSQL with every gateway's counts
 * (`postgres/pg-report-store.ts`).
 */
export interface ReportStore {
  daily(q: ReportQuery): Promise<ReportRow[]>;
  /** Calls, answered and qualified per listing, over all time (the quality scores). */
  stats(): Promise<Map<string, ListingStats>>;
  /** Spend per listing on one budget day. */
  spendOn(day: string): Promise<Map<string, number>>;
}

/** The report's query over `mp_daily` (the same SQL on both databases; `?` placeholders). */
export function reportSql(q: ReportQuery): { sql: string; params: string[] } {
  const column = COLUMN[q.subject];
  const where = ['day >= ?', 'day <= ?'];
  const params: string[] = [q.from, q.to];
  if (q.tenant !== undefined) {
    where.push('tenant = ?');
    params.push(q.tenant);
  }
  if (q.id !== undefined) {
    where.push(`${column} = ?`);
    params.push(q.id);
  }
  return {
    sql: `SELECT day, ${column} AS id, SUM(impressions) AS impressions, SUM(calls) AS calls,
            SUM(answered) AS answered, SUM(qualified) AS qualified, SUM(spend) AS spend
          FROM mp_daily WHERE ${where.join(' AND ')} GROUP BY day, ${column} ORDER BY day, ${column}`,
    params,
  };
}

/** A report row as both databases answer it (PostgreSQL's sums as numbers). */
export interface DailySums {
  day: string;
  id: string;
  impressions: number;
  calls: number;
  answered: number;
  qualified: number;
  spend: number;
}

export const reportRowOf = (r: DailySums): ReportRow =>
  withRates({
    day: r.day,
    id: r.id,
    impressions: Number(r.impressions),
    calls: Number(r.calls),
    answered: Number(r.answered),
    qualified: Number(r.qualified),
    spendCents: Number(r.spend),
  });

const STATS_SQL =
  'SELECT listing_id, SUM(calls) AS calls, SUM(answered) AS answered, SUM(qualified) AS qualified FROM mp_daily GROUP BY listing_id';

const COLUMN: Record<ReportSubject, string> = {
  listing: 'listing_id',
  advertiser: 'advertiser_id',
  publisher: 'publisher_id',
};

export function withRates(r: Omit<ReportRow, 'costPerCallCents' | 'answerRate'>): ReportRow {
  return {
    ...r,
    costPerCallCents: r.qualified > 0 ? Math.round(r.spendCents / r.qualified) : null,
    answerRate: r.calls > 0 ? r.answered / r.calls : null,
  };
}

export class SqliteReportStore implements ReportStore {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  async daily(q: ReportQuery): Promise<ReportRow[]> {
    const { sql, params } = reportSql(q);
    return this.#db
      .prepare<string[], DailySums>(sql)
      .all(...params)
      .map(reportRowOf);
  }

  async stats(): Promise<Map<string, ListingStats>> {
    const rows = this.#db
      .prepare<[], { listing_id: string; calls: number; answered: number; qualified: number }>(
        STATS_SQL,
      )
      .all();
    return new Map(
      rows.map((r) => [
        r.listing_id,
        { calls: r.calls, answered: r.answered, qualified: r.qualified },
      ]),
    );
  }

  async spendOn(day: string): Promise<Map<string, number>> {
    const rows = this.#db
      .prepare<[string], { listing_id: string; spend: number }>(
        'SELECT listing_id, SUM(spend) AS spend FROM mp_daily WHERE day = ? GROUP BY listing_id',
      )
      .all(day);
    return new Map(rows.map((r) => [r.listing_id, r.spend]));
  }
}

/** Totals over the rows (one line per id). */
export function totals(rows: readonly ReportRow[]): ReportRow[] {
  const byId = new Map<string, Omit<ReportRow, 'costPerCallCents' | 'answerRate'>>();
  for (const r of rows) {
    const t = byId.get(r.id) ?? {
      day: '',
      id: r.id,
      impressions: 0,
      calls: 0,
      answered: 0,
      qualified: 0,
      spendCents: 0,
    };
    byId.set(r.id, {
      ...t,
      impressions: t.impressions + r.impressions,
      calls: t.calls + r.calls,
      answered: t.answered + r.answered,
      qualified: t.qualified + r.qualified,
      spendCents: t.spendCents + r.spendCents,
    });
  }
  return [...byId.values()].map(withRates);
}
