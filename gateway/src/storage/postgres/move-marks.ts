/**
 * The records of `parley-gateway move` (`sqlite-move.ts`): what was moved of
 * each module, per file table (its row count and highest rowid when the
 * move read it), kept twice. In the SQLite file (`store_moves`,
 * `store_move_tables`, written in the move's one SQLite transaction): the
 * gateway's start-up check on PostgreSQL passes a module marked there only
 * while its tables hold no more than was moved (a gateway that went on
 * writing to the file, or was put back on SQLite for a while, is refused,
 * naming the command, which then moves the new rows). In PostgreSQL
 * (`store_moves`, keyed by the file's identity and the module, made by the
 * core migrations, `pg-migrations.ts`; written in the module's own
 * transaction): a run killed after a module's COMMIT and
 * before the file's mark finds it there and marks the file, without
 * comparing rows that the cluster may have changed since (a meter closed by
 * the lost-gateway sweeper, a balance credited through the API).
 *
 * The file's identity is the instance that moves it and a random id the
 * file keeps (`store_move_file`), written before the move's transaction so
 * a killed run keeps it.
 */
import { randomUUID } from 'node:crypto';
import type { SqliteDatabase } from '../index.js';
import type { PgClient, PgPool } from './pg-database.js';

/** A file table as the move read it. */
export interface TableMark {
  readonly rows: number;
  /** Its highest rowid (null: empty, or a WITHOUT ROWID table). */
  readonly maxRowid: number | null;
}
export type TableMarks = Readonly<Record<string, TableMark>>;

export interface ModuleMark {
  readonly movedAt: number;
  /** Empty for a module marked by a move that kept no per-table record. */
  readonly tables: TableMarks;
}

export function ensureFileMarks(db: SqliteDatabase): void {
  db.exec(
    `CREATE TABLE IF NOT EXISTS store_moves (
       module TEXT PRIMARY KEY, moved_at INTEGER NOT NULL, rows INTEGER NOT NULL);
     CREATE TABLE IF NOT EXISTS store_move_tables (
       module TEXT NOT NULL, tbl TEXT NOT NULL, rows INTEGER NOT NULL, max_rowid INTEGER,
       PRIMARY KEY (module, tbl));
     CREATE TABLE IF NOT EXISTS store_move_file (id TEXT NOT NULL)`,
  );
}

/** The file's identity for PostgreSQL's record: `owner/random id`, the id kept in the file. */
export function fileIdentity(db: SqliteDatabase, owner: string): string {
  ensureFileMarks(db);
  const held = db.prepare<[], { id: string }>('SELECT id FROM store_move_file').get();
  if (held) return `${owner}/${held.id}`;
  const id = randomUUID();
  db.prepare('INSERT INTO store_move_file (id) VALUES (?)').run(id);
  return `${owner}/${id}`;
}

/** The tables' row counts and highest rowids now. */
export function tableMarks(db: SqliteDatabase, tables: readonly string[]): TableMarks {
  const marks: Record<string, TableMark> = {};
  for (const table of new Set(tables)) {
    const rows = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()?.n ?? 0;
    let maxRowid: number | null = null;
    try {
      maxRowid =
        db.prepare<[], { m: number | null }>(`SELECT max(rowid) AS m FROM ${table}`).get()?.m ??
        null;
    } catch {
      // WITHOUT ROWID: the count alone.
    }
    marks[table] = { rows, maxRowid };
  }
  return marks;
}

/** The tables of `now` that hold rows beyond `moved` (more, fewer, or a higher rowid), named. */
export function beyondMoved(moved: TableMarks, now: TableMarks): string[] {
  if (Object.keys(moved).length === 0) return [];
  return Object.entries(now).flatMap(([table, n]) => {
    const m = moved[table] ?? { rows: 0, maxRowid: null };
    const later = n.maxRowid !== null && (m.maxRowid === null || n.maxRowid > m.maxRowid);
    return n.rows !== m.rows || later ? [`${table}: ${n.rows} rows, ${m.rows} moved`] : [];
  });
}

export function fileMark(db: SqliteDatabase, module: string): ModuleMark | undefined {
  ensureFileMarks(db);
  const row = db
    .prepare<[string], { moved_at: number }>('SELECT moved_at FROM store_moves WHERE module = ?')
    .get(module);
  if (!row) return undefined;
  const tables: Record<string, TableMark> = {};
  for (const t of db
    .prepare<[string], { tbl: string; rows: number; max_rowid: number | null }>(
      'SELECT tbl, rows, max_rowid FROM store_move_tables WHERE module = ?',
    )
    .all(module))
    tables[t.tbl] = { rows: t.rows, maxRowid: t.max_rowid };
  return { movedAt: row.moved_at, tables };
}

/** Marks `module` moved in the file (in the move's SQLite transaction). */
export function markFile(db: SqliteDatabase, module: string, mark: ModuleMark): void {
  const rows = Object.values(mark.tables).reduce((n, t) => n + t.rows, 0);
  db.prepare('INSERT OR REPLACE INTO store_moves (module, moved_at, rows) VALUES (?, ?, ?)').run(
    module,
    mark.movedAt,
    rows,
  );
  db.prepare('DELETE FROM store_move_tables WHERE module = ?').run(module);
  const insert = db.prepare(
    'INSERT INTO store_move_tables (module, tbl, rows, max_rowid) VALUES (?, ?, ?, ?)',
  );
  for (const [table, t] of Object.entries(mark.tables))
    insert.run(module, table, t.rows, t.maxRowid);
}

export async function pgMark(
  pool: PgPool,
  fileId: string,
  module: string,
): Promise<ModuleMark | undefined> {
  const { rows } = await pool.query<{ moved_at: string; tables: TableMarks }>(
    'SELECT moved_at, tables FROM store_moves WHERE file_id = $1 AND module = $2',
    [fileId, module],
  );
  const row = rows[0];
  return row ? { movedAt: Number(row.moved_at), tables: row.tables } : undefined;
}

/** Records `module` moved in PostgreSQL, in the module's transaction. */
export async function markPg(
  client: PgClient,
  fileId: string,
  module: string,
  mark: ModuleMark,
): Promise<void> {
  await client.query(
    `INSERT INTO store_moves (file_id, module, moved_at, tables) VALUES ($1, $2, $3, $4)
     ON CONFLICT (file_id, module) DO UPDATE SET moved_at = $3, tables = $4`,
    [fileId, module, mark.movedAt, JSON.stringify(mark.tables)],
  );
}
