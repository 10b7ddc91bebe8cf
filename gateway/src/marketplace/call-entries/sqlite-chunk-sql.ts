/**
 * The statements of a chunk's transaction on SQLite (`sqlite-chunk-match.ts`):
 * the match, one statement over the temporary table of the chunk's entries,
 * and the store.
 */
import { MAX_LOG_ENTRIES } from './match-types.js';

/**
 * The pick's score bands (below): a candidate's `rn` (1..MAX_LOG_ENTRIES) plus
 * 0 (held and dialled), BAND (held, another number) or 2 × BAND (did not
 * hold); a band must be wider than the candidates it holds.
 */
const BAND = 1000;
if (MAX_LOG_ENTRIES >= BAND)
  throw new Error(`MAX_LOG_ENTRIES (${MAX_LOG_ENTRIES}) must stay below ${BAND}`);

/*
 * Per entry: its device's log entries begun in [since, start] (since = start − T
 * for the time-bound rules, else 0), newest first, at most MAX_LOG_ENTRIES
 * (the same order as the covering index read backwards, as the row-wise
 * matcher reads them); of those the first that holds the rule and, when the
 * entry has a number dialled, showed it. Without one: `outside_rule` or
 * `number_mismatch` when the window had log entries, `outside_window` when the
 * device was seen before the window, else `no_device`. The impression is the
 * one that held the log entry's number at its lease start (normally the log
 * entry itself): asked once an entry, as `outcome` is materialised (inline,
 * SQLite asked it for each of the three uses; 0.6 µs CPU an entry measured).
 * The pick and the "did any hold?" are one `GROUP BY` over the candidates
 * (before: two, each joined back through an automatic index; 1.9–2.4 µs CPU
 * an entry less, measured against the same chunks, outcomes the same).
 */
export const MATCH = `
WITH cand AS (
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
-- Per entry, one pass over its newest candidates: the first that holds the rule and was dialled
-- (score < BAND), else whether any held (< 2 × BAND: number_mismatch) or none (outside_rule). With
-- one min() SQLite takes the bare columns from the row of the minimum (rn is distinct per k).
pick AS (
  SELECT k, min(CASE WHEN coalesce(holds, 0) THEN CASE WHEN coalesce(dialled, 0) THEN rn ELSE ${BAND} + rn END
    ELSE ${2 * BAND} + rn END) AS score, id, listing_id, number, lease_start
  FROM cand WHERE rn <= ${MAX_LOG_ENTRIES} GROUP BY k
),
outcome AS MATERIALIZED (
  SELECT c.k AS k,
    CASE
      WHEN p.score < ${BAND} THEN 'matched'
      WHEN p.k IS NOT NULL THEN CASE WHEN p.score < ${2 * BAND} THEN 'number_mismatch' ELSE 'outside_rule' END
      WHEN @timeBound AND c.started_at - @w > 0 AND EXISTS (
        SELECT 1 FROM mp_impressions e WHERE e.tenant = @tenant AND e.device_id = c.device_id
          AND e.lease_start >= 0 AND e.lease_start <= c.started_at) THEN 'outside_window'
      ELSE 'no_device'
    END AS kind,
    CASE WHEN p.score < ${BAND} THEN p.id END AS log_id,
    CASE WHEN p.score < ${BAND} THEN p.listing_id END AS log_listing,
    CASE WHEN p.score < ${BAND} THEN p.number END AS number,
    CASE WHEN p.score >= ${BAND} THEN NULL WHEN p.number IS NULL THEN p.id ELSE (
      SELECT n.id FROM mp_impressions n WHERE n.number = p.number AND n.lease_start <= p.lease_start
      ORDER BY n.lease_start DESC LIMIT 1) END AS through,
    prev.status AS prev_status, prev.impression_id AS prev_impression, prev.reason AS prev_reason
  FROM temp.ce_chunk c
    LEFT JOIN pick p ON p.k = c.k
    LEFT JOIN mp_call_entries prev ON prev.tenant = @tenant AND prev.entry_id = c.entry_id
)
INSERT INTO temp.ce_match (k, kind, impression_id, listing_id, number, prev_status, prev_impression, prev_reason)
SELECT k, kind,
  coalesce(through, log_id),
  CASE WHEN through IS NULL OR through = log_id THEN log_listing
    ELSE (SELECT listing_id FROM mp_impressions WHERE id = through) END,
  number, prev_status, prev_impression, prev_reason
FROM outcome WHERE true`;

/** The chunk's new entries (no outcome stored before) stored, in order, with their outcomes. */
export const STORE = `
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
