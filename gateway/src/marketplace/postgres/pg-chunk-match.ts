/**
 * Call-entry matching as sets on PostgreSQL (`storage.kind: postgres`: the
 * impression log and the entries are the cluster's): a chunk's entries are
 * sent as arrays (`unnest($2::text[], …)`), and one statement matches them
 * all against the log by the rule of the SQLite path
 * (`../call-entries/sqlite-chunk-match.ts`), reads the ids stored before, and
 * writes the new ones (`INSERT … ON CONFLICT DO NOTHING RETURNING`): one round
 * trip a chunk instead of the row-wise path's four or more.
 *
 * An id neither stored before the statement's snapshot nor written by it was
 * written meanwhile by a racing batch or gateway (the insert waited for its
 * commit): its stored outcome is read by a second statement, so it is
 * answered `duplicate` as on SQLite.
 */
import type { PgPool } from '../../storage/postgres/index.js';
import type { CallEntry } from '../call-entries/entry.js';
import {
  MAX_LOG_ENTRIES,
  type ChunkMatch,
  type ChunkOutcome,
  type MatchKind,
  type MatchRule,
  type MatchThreshold,
} from '../call-entries/match-types.js';
import type { StoredOutcome } from '../call-entries/store.js';

/** Whether the rule bounds the call's start after the impression (the window read is [start − T, start]). */
const timeBound = (rule: MatchRule) => rule === 'time' || rule === 'time-and-duration';

/** The rule for a log entry `l` of entry `c` (`c.w`: T in ms, floored: lease starts are integers; `c.d`: D). */
const HOLDS: Record<MatchRule, string> = {
  time: 'true',
  duration: 'c.duration >= c.d',
  'time-and-duration': 'c.started_at - l.lease_start <= c.w AND c.duration >= c.d',
  'time-or-duration': 'c.started_at - l.lease_start <= c.w OR coalesce(c.duration >= c.d, false)',
};

/*
 * Ties of lease start in SQLite's order (its covering index read backwards:
 * byte order, NULL numbers last), so both databases pick the same log entry.
 */
const NEWEST = `l.lease_start DESC, l.number COLLATE "C" DESC NULLS LAST,
  l.listing_id COLLATE "C" DESC, l.id COLLATE "C" DESC`;

/*
 * Per entry: its device's log entries begun in [since, start], newest first,
 * at most MAX_LOG_ENTRIES (one index seek a device, LATERAL); of those the
 * first that holds the rule and, when the entry has a number dialled, showed
 * it. Without one: `outside_rule` or `number_mismatch` when the window had log
 * entries, `outside_window` when the device was seen before the window, else
 * `no_device`. The impression is the one that held the log entry's number at
 * its lease start (normally the log entry itself; ties by `seq`, as
 * `PgImpressionStore.impressionIdAt`).
 */
const match = (rule: MatchRule) => `
WITH c AS (
  SELECT c.*, $3::bigint AS w, $4::float8 AS d
  FROM unnest($5::text[], $6::text[], $7::text[], $8::bigint[], $9::float8[], $10::text[])
    WITH ORDINALITY AS c(entry_id, device_id, number, started_at, duration, data, k)
),
top AS MATERIALIZED (
  SELECT c.k, l.id, l.listing_id, l.number, l.lease_start,
    row_number() OVER (PARTITION BY c.k ORDER BY ${NEWEST}) AS rn,
    coalesce(${HOLDS[rule]}, false) AS holds,
    (c.number IS NULL OR l.number = c.number) AS dialled
  FROM c CROSS JOIN LATERAL (
    SELECT l.id, l.listing_id, l.number, l.lease_start FROM mp_impressions l
    WHERE l.tenant = $1 AND l.device_id = c.device_id
      AND l.lease_start >= ${timeBound(rule) ? 'c.started_at - c.w' : '0'} AND l.lease_start <= c.started_at
    ORDER BY ${NEWEST} LIMIT ${MAX_LOG_ENTRIES}
  ) l
),
pick AS (
  SELECT DISTINCT ON (k) k, id, listing_id, number, lease_start FROM top
  WHERE holds AND dialled ORDER BY k, rn
),
seen AS (SELECT k, bool_or(holds) AS any_holds FROM top GROUP BY k),
outcome AS (
  SELECT c.k, c.entry_id, c.device_id, c.number AS entry_number, c.started_at, c.duration, c.data,
    CASE
      WHEN p.k IS NOT NULL THEN 'matched'
      WHEN s.k IS NOT NULL THEN CASE WHEN s.any_holds THEN 'number_mismatch' ELSE 'outside_rule' END
      WHEN ${timeBound(rule) ? 'c.started_at - c.w > 0' : 'false'} AND EXISTS (
        SELECT 1 FROM mp_impressions e WHERE e.tenant = $1 AND e.device_id = c.device_id
          AND e.lease_start >= 0 AND e.lease_start <= c.started_at) THEN 'outside_window'
      ELSE 'no_device'
    END AS kind,
    coalesce(n.id, p.id) AS impression_id, coalesce(n.listing_id, p.listing_id) AS listing_id,
    p.number, prev.status AS prev_status, prev.impression_id AS prev_impression, prev.reason AS prev_reason
  FROM c
    LEFT JOIN pick p ON p.k = c.k
    LEFT JOIN seen s ON s.k = c.k
    LEFT JOIN LATERAL (
      SELECT n.id, n.listing_id FROM mp_impressions n WHERE n.number = p.number AND n.lease_start <= p.lease_start
      ORDER BY n.lease_start DESC, n.seq DESC LIMIT 1
    ) n ON p.number IS NOT NULL
    -- A probe of the key per entry (OFFSET 0 keeps it one): planned as a join, the table's
    -- stale statistics while a batch fills it chose a hash of the whole table per chunk.
    LEFT JOIN LATERAL (
      SELECT prev.status, prev.impression_id, prev.reason FROM mp_call_entries prev
      WHERE prev.tenant = $1 AND prev.entry_id = c.entry_id OFFSET 0
    ) prev ON true
),
written AS (
  INSERT INTO mp_call_entries (tenant, entry_id, status, reason, impression_id, device_id, number, started_at,
    duration_seconds, data, received_at)
  SELECT $1, entry_id,
    CASE kind WHEN 'matched' THEN 'matched' ELSE 'unmatched' END,
    CASE kind WHEN 'matched' THEN NULL WHEN 'outside_window' THEN 'outside_threshold'
      WHEN 'outside_rule' THEN 'outside_threshold' ELSE kind END,
    CASE kind WHEN 'matched' THEN impression_id END,
    device_id, entry_number, started_at, duration, data, $2
  FROM outcome WHERE prev_status IS NULL ORDER BY k
  ON CONFLICT (tenant, entry_id) DO NOTHING
  RETURNING entry_id
)
SELECT o.entry_id, o.kind, o.impression_id, o.listing_id, o.number,
  o.prev_status, o.prev_impression, o.prev_reason, w.entry_id IS NOT NULL AS written
FROM outcome o LEFT JOIN written w ON w.entry_id = o.entry_id
ORDER BY o.k`;

const MATCH: Record<MatchRule, string> = {
  time: match('time'),
  duration: match('duration'),
  'time-and-duration': match('time-and-duration'),
  'time-or-duration': match('time-or-duration'),
};

interface OutcomeRow {
  entry_id: string;
  kind: MatchKind;
  impression_id: string | null;
  listing_id: string | null;
  number: string | null;
  prev_status: 'matched' | 'unmatched' | null;
  prev_impression: string | null;
  prev_reason: string | null;
  written: boolean;
}

export class PgChunkMatch implements ChunkMatch {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async matchAndStore(
    tenant: string,
    entries: readonly CallEntry[],
    t: MatchThreshold,
    now: number,
  ): Promise<ChunkOutcome[]> {
    if (entries.length === 0) return [];
    const { rows } = await this.#pool.query<OutcomeRow>(MATCH[t.rule], [
      tenant,
      now,
      Math.floor(t.windowSeconds * 1000),
      t.minDurationSeconds,
      entries.map((e) => e.id),
      entries.map((e) => e.deviceId),
      entries.map((e) => e.number ?? null),
      entries.map((e) => e.startedAt),
      entries.map((e) => e.durationSeconds ?? null),
      entries.map((e) => JSON.stringify(e.data)),
    ]);
    const raced = rows.filter((r) => r.prev_status === null && !r.written).map((r) => r.entry_id);
    const meanwhile = raced.length > 0 ? await this.#stored(tenant, raced) : undefined;
    return rows.map((r) => {
      const previous: StoredOutcome | null =
        r.prev_status !== null
          ? { status: r.prev_status, impressionId: r.prev_impression, reason: r.prev_reason }
          : (meanwhile?.get(r.entry_id) ?? null);
      return {
        kind: r.kind,
        impressionId: r.impression_id,
        listingId: r.listing_id,
        number: r.number,
        previous,
      };
    });
  }

  /** The outcomes of ids a racing writer stored after this chunk's snapshot. */
  async #stored(tenant: string, entryIds: readonly string[]): Promise<Map<string, StoredOutcome>> {
    const { rows } = await this.#pool.query<{
      entry_id: string;
      status: 'matched' | 'unmatched';
      impression_id: string | null;
      reason: string | null;
    }>(
      `SELECT entry_id, status, impression_id, reason FROM mp_call_entries
       WHERE tenant = $1 AND entry_id = ANY($2::text[])`,
      [tenant, entryIds],
    );
    return new Map(
      rows.map((r) => [
        r.entry_id,
        { status: r.status, impressionId: r.impression_id, reason: r.reason },
      ]),
    );
  }
}
