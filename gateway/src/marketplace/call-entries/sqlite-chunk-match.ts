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
import { MATCH, STORE } from './sqlite-chunk-sql.js';
import {
  type ChunkMatch,
  type ChunkOutcome,
  type MatchKind,
  type MatchThreshold,
} from './match-types.js';

/** Rows per multi-row insert into the temporary table (7 parameters each). */
const BLOCK = 256;
const COLUMNS = 7;

const row = '(?, ?, ?, ?, ?, ?, ?)';
const insertRows = (n: number) =>
  `INSERT INTO temp.ce_chunk (k, entry_id, device_id, number, started_at, duration, data)
   VALUES ${Array.from({ length: n }, () => row).join(', ')}`;

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
 * The chunk's transaction on the gateway's connection, on flat arrays (the
 * entries in, the outcomes out: no object an entry between the two).
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
