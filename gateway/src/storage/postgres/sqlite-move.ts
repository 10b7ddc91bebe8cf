/**
 * The move of a module's rows from a gateway's SQLite file into PostgreSQL
 * (`parley-gateway move`, docs/scaling.md "Moving a SQLite file's rows"): for
 * a gateway that goes to `storage.kind: postgres` while its file still holds
 * rows of a module that lives in PostgreSQL there (the gated facility, the
 * callbacks).
 *
 * One module is one PostgreSQL transaction: all of its rows land, or none.
 * Each row keeps its key (ids, credit keys, `(call_id, minute)`); a row
 * PostgreSQL already holds equal in every copied column counts as there
 * (a second run, or a run killed after its COMMIT and before the file's mark),
 * so nothing is doubled, money rows included; a different row under the same
 * key (or under another unique value, e.g. a resident's number) stops the
 * module with `store_move_conflict`, rolled back, naming table and key. Once
 * committed, the module is marked moved in the SQLite file (`store_moves`):
 * the gateway's start-up check then passes, and a later run skips it. The
 * file's rows stay (nothing is deleted from it).
 */
import { ParleyError } from '@parley/shared/errors';
import type { SqliteDatabase } from '../index.js';
import type { PgClient, PgPool } from './pg-database.js';

/** One table of a module, as the move copies it. */
export interface MovedTable {
  readonly table: string;
  /** The columns copied, named alike in both schemas. */
  readonly columns: readonly string[];
  /**
   * How a row already in PostgreSQL is recognised: by these key columns (the
   * rest must be equal), or `content` for a table whose key is a serial number
   * each database gives itself (the audit log): a row counts as there when
   * PostgreSQL holds as many equal rows as the file up to it.
   */
  readonly key: readonly string[] | 'content';
  /** SQLite's ORDER BY (the order the rows are inserted in, e.g. their seq). */
  readonly order: string;
  /** SQLite INTEGER 0/1 columns that are BOOLEAN in PostgreSQL. */
  readonly booleans?: readonly string[];
  /** Columns PostgreSQL has and SQLite lacks, with the value written (not compared). */
  readonly extra?: Readonly<Record<string, string>>;
}

export interface TableMoved {
  readonly table: string;
  readonly copied: number;
  /** Rows PostgreSQL already held, equal (a second run). */
  readonly present: number;
}

export type MoveProgress = (line: string) => void;

export type ModuleMove =
  | { readonly module: string; readonly skipped: true; readonly movedAt: number }
  | { readonly module: string; readonly skipped: false; readonly tables: readonly TableMoved[] };

/** The SQLite file's record of the modules moved (created by the first mark or look). */
function ensureMarks(db: SqliteDatabase): void {
  db.exec(
    `CREATE TABLE IF NOT EXISTS store_moves (
       module TEXT PRIMARY KEY, moved_at INTEGER NOT NULL, rows INTEGER NOT NULL)`,
  );
}

/** When `module`'s rows were moved out of this SQLite file, or undefined. */
export function movedAt(db: SqliteDatabase, module: string): number | undefined {
  ensureMarks(db);
  return db
    .prepare<[string], { moved_at: number }>('SELECT moved_at FROM store_moves WHERE module = ?')
    .get(module)?.moved_at;
}

/** The command that moves them, as the refusals at start name it. */
export const MOVE_COMMAND =
  'node --conditions=parley-dist gateway/dist/main.js move -c parley.json';

/**
 * The gateway's start-up check on PostgreSQL: the file holds `counts` rows of
 * a module that is not marked moved. Started, it would read them as none.
 */
export function refuseUnmoved(
  db: SqliteDatabase,
  module: string,
  counts: Readonly<Record<string, number>>,
  what: string,
): void {
  const held = Object.entries(counts).filter(([, n]) => n > 0);
  if (held.length === 0 || movedAt(db, module) !== undefined) return;
  throw new ParleyError(
    'invalid_config',
    `\n  - storage.kind: the SQLite file holds ${module} rows from before they moved to PostgreSQL (${held.map(([table, n]) => `${n} ${table}`).join(', ')}); started on PostgreSQL they would read as none (${what}). Move them first: ${MOVE_COMMAND} (docs/scaling.md, "Moving a SQLite file's rows").`,
  );
}

/** Moves `tables` of `module` in one transaction, then marks the file; skips a module marked. */
export async function moveModule(
  db: SqliteDatabase,
  pool: PgPool,
  module: string,
  tables: readonly MovedTable[],
  progress: MoveProgress,
): Promise<ModuleMove> {
  const already = movedAt(db, module);
  if (already !== undefined) {
    progress(`${module}: already moved (${new Date(already).toISOString()}), skipped`);
    return { module, skipped: true, movedAt: already };
  }
  progress(`${module}: moving`);
  const client = await pool.connect();
  const done: TableMoved[] = [];
  try {
    await client.query('BEGIN');
    for (const table of tables) {
      const moved = await copyTable(client, db, module, table);
      progress(`${module}: ${table.table}: ${moved.copied} copied, ${moved.present} already there`);
      done.push(moved);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  // A kill here leaves the rows committed and the file unmarked: the next run finds them equal.
  const rows = done.reduce((n, t) => n + t.copied + t.present, 0);
  ensureMarks(db);
  db.prepare('INSERT OR REPLACE INTO store_moves (module, moved_at, rows) VALUES (?, ?, ?)').run(
    module,
    Date.now(),
    rows,
  );
  progress(`${module}: moved (${rows} rows), marked in the SQLite file`);
  return { module, skipped: false, tables: done };
}

async function copyTable(
  client: PgClient,
  db: SqliteDatabase,
  module: string,
  spec: MovedTable,
): Promise<TableMoved> {
  const rows = db
    .prepare<[], Record<string, unknown>>(
      `SELECT ${spec.columns.join(', ')} FROM ${spec.table} ORDER BY ${spec.order}`,
    )
    .all();
  const extra = Object.entries(spec.extra ?? {});
  const columns = [...spec.columns, ...extra.map(([c]) => c)];
  const insert = `INSERT INTO ${spec.table} (${columns.join(', ')})
    VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING`;
  // Every copied column equal (NULLs too): the row this one would be.
  const equal = `SELECT count(*)::int AS n FROM ${spec.table} WHERE ${spec.columns
    .map((c, i) => `${c} IS NOT DISTINCT FROM $${i + 1}`)
    .join(' AND ')}`;
  const booleans = new Set(spec.booleans ?? []);
  const seen = new Map<string, number>();
  let copied = 0;
  let present = 0;
  for (const row of rows) {
    const values = spec.columns.map((c) => {
      const v = row[c] ?? null;
      return booleans.has(c) && v !== null ? v !== 0 : v;
    });
    if (spec.key === 'content') {
      // The k-th row of equal content in the file is there when PostgreSQL holds k of them.
      const content = JSON.stringify(values);
      const k = (seen.get(content) ?? 0) + 1;
      seen.set(content, k);
      const { rows: held } = await client.query<{ n: number }>(equal, values);
      if ((held[0]?.n ?? 0) >= k) present += 1;
      else {
        await client.query(insert, [...values, ...extra.map(([, v]) => v)]);
        copied += 1;
      }
      continue;
    }
    const inserted = await client.query(insert, [...values, ...extra.map(([, v]) => v)]);
    if (inserted.rowCount === 1) {
      copied += 1;
      continue;
    }
    const { rows: held } = await client.query<{ n: number }>(equal, values);
    if ((held[0]?.n ?? 0) === 0) {
      const key = spec.key.map((c) => `${c}=${String(row[c])}`).join(', ');
      throw new ParleyError(
        'store_move_conflict',
        `${module}: PostgreSQL's ${spec.table} already holds a different row for ${key} (or another row with one of its unique values); nothing of ${module} was moved`,
      );
    }
    present += 1;
  }
  return { table: spec.table, copied, present };
}
