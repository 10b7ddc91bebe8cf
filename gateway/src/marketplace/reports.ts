/**
 * Reports per listing, advertiser or publisher, per day: impressions, calls,
 * answered and qualified calls, spend, cost per qualified call, answer rate.
 * Read from the daily counts (`mp_daily`) that placements and billing keep in
 * the same transactions as their records, so a report never scans the
 * impression log.
 */
import type { SqliteDatabase } from '../storage/index.js';

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

/** Reports (SQLite now, PostgreSQL later). */
export interface ReportStore {
  daily(q: ReportQuery): ReportRow[];
}

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

  daily(q: ReportQuery): ReportRow[] {
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
    return this.#db
      .prepare<
        string[],
        {
          day: string;
          id: string;
          impressions: number;
          calls: number;
          answered: number;
          qualified: number;
          spend: number;
        }
      >(
        `SELECT day, ${column} AS id, SUM(impressions) AS impressions, SUM(calls) AS calls, SUM(answered) AS answered,
           SUM(qualified) AS qualified, SUM(spend) AS spend
         FROM mp_daily WHERE ${where.join(' AND ')} GROUP BY day, ${column} ORDER BY day, ${column}`,
      )
      .all(...params)
      .map((r) =>
        withRates({
          day: r.day,
          id: r.id,
          impressions: r.impressions,
          calls: r.calls,
          answered: r.answered,
          qualified: r.qualified,
          spendCents: r.spend,
        }),
      );
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
