/**
 * Call-entry matching as sets, on the gateway's SQLite file (the impression
 * log and the entries in one database): a chunk's entries are written into a
 * temporary table by a prepared multi-row insert, one statement matches them
 * all against the log (the device's log entries in the window, the rule, the
 * number dialled, the impression through the virtual number, the entry stored
 * before), one writes the new ones, one reads the outcomes back. Four
 * statements a chunk instead of several round trips an entry between
 * JavaScript and SQLite, and no row object an entry's log entry.
 */
import type { SqliteDatabase } from '../../storage/index.js';
import type { CallEntry } from './entry.js';
import {
  MAX_LOG_ENTRIES,
  type ChunkMatch,
  type ChunkOutcome,
  type MatchKind,
  type MatchThreshold,
} from './matcher.js';

/** Rows per multi-row insert into the temporary table (7 parameters each). */
const BLOCK = 256;
const COLUMNS = 7;

const row = '(?, ?, ?, ?, ?, ?, ?)';
const insertRows = (n: number) =>
  `INSERT INTO temp.ce_chunk (k, entry_id, device_id, number, started_at, duration, data)
   VALUES ${Array.from({ length: n }, () => row).join(', ')}`;

/*
 * Per entry: its device's log entries begun in [since, start] (since = start − T
 * for the time-bound rules, else 0), newest first, at most MAX_LOG_ENTRIES
 * (the same order as the covering index read backwards, as the row-wise
 * matcher reads them); of those the first that holds the rule and, when the
 * entry has a number dialled, showed it. Without one: `outside_rule` or
 * `number_mismatch` when the window had log entries, `outside_window` when the
 * device was seen before the window, else `no_device`. The impression is the
 * one that held the log entry's number at its lease start (normally the log
 * entry itself).
 */
const MATCH = `
WITH cand AS MATERIALIZED (
  SELECT c.k AS k, l.id AS id, l.listing_id AS listing_id, l.number AS number, l.lease_start AS lease_start,
    row_number() OVER (PARTITION BY c.k
      ORDER BY l.lease_start DESC, l.number DESC, l.listing_id DESC, l.id DESC) AS rn,
    CASE @rule
      WHEN 'time' THEN 1
      WHEN 'duration' THEN c.duration >= @d
      WHEN 'time-and-duration' THEN c.started_at - l.lease_start <= @w AND c.duration >= @d
      ELSE c.started_at - l.lease_start <= @w OR coalesce(c.duration >= @d, 0)
    END AS holds,
    (c.number IS NULL OR l.number = c.number) AS dialled
  FROM temp.ce_chunk c CROSS JOIN mp_impressions l
    ON l.tenant = @tenant AND l.device_id = c.device_id
    AND l.lease_start >= (CASE WHEN @timeBound THEN c.started_at - @w ELSE 0 END)
    AND l.lease_start <= c.started_at
),
top AS MATERIALIZED (SELECT * FROM cand WHERE rn <= ${MAX_LOG_ENTRIES}),
pick AS (
  SELECT k, min(rn) AS rn, id, listing_id, number, lease_start FROM top
  WHERE holds AND dialled GROUP BY k
),
seen AS (SELECT k, max(coalesce(holds, 0)) AS any_holds FROM top GROUP BY k),
outcome AS (
  SELECT c.k AS k,
    CASE
      WHEN p.k IS NOT NULL THEN 'matched'
      WHEN s.k IS NOT NULL THEN CASE WHEN s.any_holds THEN 'number_mismatch' ELSE 'outside_rule' END
      WHEN @timeBound AND c.started_at - @w > 0 AND EXISTS (
        SELECT 1 FROM mp_impressions e WHERE e.tenant = @tenant AND e.device_id = c.device_id
          AND e.lease_start >= 0 AND e.lease_start <= c.started_at) THEN 'outside_window'
      ELSE 'no_device'
    END AS kind,
    p.id AS log_id, p.listing_id AS log_listing, p.number AS number,
    CASE WHEN p.number IS NULL THEN p.id ELSE (
      SELECT n.id FROM mp_impressions n WHERE n.number = p.number AND n.lease_start <= p.lease_start
      ORDER BY n.lease_start DESC LIMIT 1) END AS through,
    prev.status AS prev_status, prev.impression_id AS prev_impression, prev.reason AS prev_reason
  FROM temp.ce_chunk c
    LEFT JOIN pick p ON p.k = c.k
    LEFT JOIN seen s ON s.k = c.k
    LEFT JOIN mp_call_entries prev ON prev.tenant = @tenant AND prev.entry_id = c.entry_id
)
INSERT INTO temp.ce_match (k, kind, impression_id, listing_id, number, prev_status, prev_impression, prev_reason)
SELECT k, kind,
  coalesce(through, log_id),
  CASE WHEN through IS NULL OR through = log_id THEN log_listing
    ELSE (SELECT listing_id FROM mp_impressions WHERE id = through) END,
  number, prev_status, prev_impression, prev_reason
FROM outcome WHERE true`;

const STORE = `
INSERT INTO mp_call_entries (tenant, entry_id, status, reason, impression_id, device_id, number, started_at,
  duration_seconds, data, received_at)
SELECT @tenant, c.entry_id,
  CASE m.kind WHEN 'matched' THEN 'matched' ELSE 'unmatched' END,
  CASE m.kind WHEN 'matched' THEN NULL WHEN 'outside_window' THEN 'outside_threshold'
    WHEN 'outside_rule' THEN 'outside_threshold' ELSE m.kind END,
  CASE m.kind WHEN 'matched' THEN m.impression_id END,
  c.device_id, c.number, c.started_at, c.duration, c.data, @now
FROM temp.ce_chunk c JOIN temp.ce_match m ON m.k = c.k
WHERE m.prev_status IS NULL ORDER BY c.k
ON CONFLICT (tenant, entry_id) DO NOTHING`;

type OutcomeRow = [
  kind: MatchKind,
  impressionId: string | null,
  listingId: string | null,
  number: string | null,
  prevStatus: 'matched' | 'unmatched' | null,
  prevImpression: string | null,
  prevReason: string | null,
];

export class SqliteChunkMatch implements ChunkMatch {
  readonly #s;
  readonly #run;

  constructor(db: SqliteDatabase) {
    db.exec(`
      CREATE TEMP TABLE IF NOT EXISTS ce_chunk (k INTEGER PRIMARY KEY, entry_id TEXT NOT NULL,
        device_id TEXT NOT NULL, number TEXT, started_at INTEGER NOT NULL, duration REAL, data TEXT NOT NULL);
      CREATE TEMP TABLE IF NOT EXISTS ce_match (k INTEGER PRIMARY KEY, kind TEXT NOT NULL, impression_id TEXT,
        listing_id TEXT, number TEXT, prev_status TEXT, prev_impression TEXT, prev_reason TEXT);
    `);
    this.#s = {
      block: db.prepare<unknown[]>(insertRows(BLOCK)),
      one: db.prepare<unknown[]>(insertRows(1)),
      clear: db.prepare('DELETE FROM temp.ce_chunk'),
      clearMatch: db.prepare('DELETE FROM temp.ce_match'),
      match: db.prepare(MATCH),
      store: db.prepare(STORE),
      outcomes: db
        .prepare<[], OutcomeRow>(
          `SELECT kind, impression_id, listing_id, number, prev_status, prev_impression, prev_reason
           FROM temp.ce_match ORDER BY k`,
        )
        .raw(),
    };
    this.#run = db.transaction(
      (tenant: string, entries: readonly CallEntry[], t: MatchThreshold, now: number) => {
        this.#s.clear.run();
        this.#s.clearMatch.run();
        this.#fill(entries);
        this.#s.match.run({
          tenant,
          rule: t.rule,
          w: t.windowSeconds * 1000,
          d: t.minDurationSeconds,
          timeBound: t.rule === 'time' || t.rule === 'time-and-duration' ? 1 : 0,
        });
        this.#s.store.run({ tenant, now });
        return this.#s.outcomes.all();
      },
    );
  }

  async matchAndStore(
    tenant: string,
    entries: readonly CallEntry[],
    t: MatchThreshold,
    now: number,
  ): Promise<ChunkOutcome[]> {
    if (entries.length === 0) return [];
    const rows = this.#run.immediate(tenant, entries, t, now);
    return rows.map(
      ([kind, impressionId, listingId, number, prevStatus, prevImpression, prevReason]) =>
        prevStatus === null
          ? { kind, impressionId, listingId, number, previous: null }
          : {
              kind,
              impressionId,
              listingId,
              number,
              previous: { status: prevStatus, impressionId: prevImpression, reason: prevReason },
            },
    );
  }

  /** The entries into the temporary table, BLOCK rows a statement. */
  #fill(entries: readonly CallEntry[]): void {
    const params = new Array<unknown>(BLOCK * COLUMNS);
    let k = 0;
    for (; k + BLOCK <= entries.length; k += BLOCK) {
      for (let j = 0; j < BLOCK; j += 1)
        put(params, j * COLUMNS, k + j, entries[k + j] as CallEntry);
      this.#s.block.run(params);
    }
    const one = new Array<unknown>(COLUMNS);
    for (; k < entries.length; k += 1) {
      put(one, 0, k, entries[k] as CallEntry);
      this.#s.one.run(one);
    }
  }
}

function put(params: unknown[], at: number, k: number, e: CallEntry): void {
  params[at] = k;
  params[at + 1] = e.id;
  params[at + 2] = e.deviceId;
  params[at + 3] = e.number ?? null;
  params[at + 4] = e.startedAt;
  params[at + 5] = e.durationSeconds ?? null;
  params[at + 6] = JSON.stringify(e.data);
}
