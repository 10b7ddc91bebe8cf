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

/** A chunk's entries as one flat array, {@link ENTRY_FIELDS} an entry: id, device, number, start, duration, data (JSON). */
export type EntryRows = (string | number | null)[];
export const ENTRY_FIELDS = 6;
/** The outcomes as one flat array, {@link OUTCOME_FIELDS} an entry (`OutcomeRow`'s columns). */
export type OutcomeRows = (string | null)[];
export const OUTCOME_FIELDS = 7;

type OutcomeRow = [
  kind: MatchKind,
  impressionId: string | null,
  listingId: string | null,
  number: string | null,
  prevStatus: 'matched' | 'unmatched' | null,
  prevImpression: string | null,
  prevReason: string | null,
];

/**
 * The chunk's transaction on one connection, on flat arrays: what the
 * gateway's thread runs (`SqliteChunkMatch`) and what the entries' worker
 * runs on its own connection (`entry-worker.ts`), whose messages carry the
 * same arrays (one structured clone a chunk, not an object an entry).
 */
export class SqliteChunkTransaction {
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
      (tenant: string, rows: EntryRows, t: MatchThreshold, now: number): OutcomeRows => {
        this.#s.clear.run();
        this.#s.clearMatch.run();
        this.#fill(rows);
        this.#s.match.run({
          tenant,
          rule: t.rule,
          w: t.windowSeconds * 1000,
          d: t.minDurationSeconds,
          timeBound: t.rule === 'time' || t.rule === 'time-and-duration' ? 1 : 0,
        });
        this.#s.store.run({ tenant, now });
        const out: OutcomeRows = [];
        for (const r of this.#s.outcomes.all()) for (const v of r) out.push(v);
        return out;
      },
    );
  }

  /** Matches and stores the entries (ids distinct) in one write transaction; their outcomes in order. */
  run(tenant: string, rows: EntryRows, t: MatchThreshold, now: number): OutcomeRows {
    return rows.length === 0 ? [] : this.#run.immediate(tenant, rows, t, now);
  }

  /** The entries into the temporary table, BLOCK rows a statement. */
  #fill(rows: EntryRows): void {
    const n = rows.length / ENTRY_FIELDS;
    const params = new Array<unknown>(BLOCK * COLUMNS);
    let k = 0;
    for (; k + BLOCK <= n; k += BLOCK) {
      for (let j = 0; j < BLOCK; j += 1) put(params, j * COLUMNS, k + j, rows);
      this.#s.block.run(params);
    }
    const one = new Array<unknown>(COLUMNS);
    for (; k < n; k += 1) {
      put(one, 0, k, rows);
      this.#s.one.run(one);
    }
  }
}

/** The chunk matched on the gateway's own connection, in its thread. */
export class SqliteChunkMatch implements ChunkMatch {
  readonly #transaction: SqliteChunkTransaction;

  constructor(db: SqliteDatabase) {
    this.#transaction = new SqliteChunkTransaction(db);
  }

  async matchAndStore(
    tenant: string,
    entries: readonly CallEntry[],
    t: MatchThreshold,
    now: number,
  ): Promise<ChunkOutcome[]> {
    return outcomesOf(this.#transaction.run(tenant, entryRows(entries), t, now));
  }
}

/** The entries as the transaction's flat array. */
export function entryRows(entries: readonly CallEntry[]): EntryRows {
  const rows: EntryRows = new Array<string | number | null>(entries.length * ENTRY_FIELDS);
  let at = 0;
  for (const e of entries) {
    rows[at++] = e.id;
    rows[at++] = e.deviceId;
    rows[at++] = e.number ?? null;
    rows[at++] = e.startedAt;
    rows[at++] = e.durationSeconds ?? null;
    rows[at++] = JSON.stringify(e.data);
  }
  return rows;
}

/** The transaction's flat outcomes as the matcher's. */
export function outcomesOf(rows: OutcomeRows): ChunkOutcome[] {
  const out: ChunkOutcome[] = [];
  for (let at = 0; at < rows.length; at += OUTCOME_FIELDS) {
    const kind = rows[at] as MatchKind;
    const impressionId = rows[at + 1] ?? null;
    const listingId = rows[at + 2] ?? null;
    const number = rows[at + 3] ?? null;
    const prevStatus = (rows[at + 4] ?? null) as 'matched' | 'unmatched' | null;
    out.push(
      prevStatus === null
        ? { kind, impressionId, listingId, number, previous: null }
        : {
            kind,
            impressionId,
            listingId,
            number,
            previous: {
              status: prevStatus,
              impressionId: rows[at + 5] ?? null,
              reason: rows[at + 6] ?? null,
            },
          },
    );
  }
  return out;
}

/** Entry k of the flat rows into the statement's parameters at `at`: k, then its six fields. */
function put(params: unknown[], at: number, k: number, rows: EntryRows): void {
  const from = k * ENTRY_FIELDS;
  params[at] = k;
  for (let f = 0; f < ENTRY_FIELDS; f += 1) params[at + 1 + f] = rows[from + f];
}
