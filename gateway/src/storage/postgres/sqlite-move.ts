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
import { copyTable } from './move-table.js';
import type { PgClient, PgPool } from './pg-database.js';

/** One table of a module, as the move copies it. */
export interface MovedTable {
  readonly table: string;
  /**
   * A SQLite SELECT giving the rows (named like \`columns\`), for a table
   * PostgreSQL has and the file lacks, derived from the file's own (the
   * listings' daily spend from the daily counts). Default: \`table\`'s rows.
   */
  readonly from?: string;
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
  /**
   * Columns written from a PostgreSQL expression over a copied column's value
   * (\`:column\` stands for it), not compared: an id PostgreSQL gave itself
   * (a callback's ledger transaction, looked up by its key).
   */
  readonly derived?: Readonly<Record<string, string>>;
  /**
   * A row PostgreSQL holds different under the key is kept, not a conflict
   * (the cluster's impression-sealing key: one per database, the first wins).
   */
  readonly keepDifferent?: boolean;
}

/**
 * A step of a module's move that is not a plain copy (the ledger: its
 * transactions get PostgreSQL's ids, their postings follow), run in the
 * module's transaction.
 */
export interface MoveStep {
  readonly step: string;
  run(client: PgClient, db: SqliteDatabase, progress: MoveProgress): Promise<readonly TableMoved[]>;
}

export interface TableMoved {
  readonly table: string;
  readonly copied: number;
  /** Rows PostgreSQL already held, equal (a second run). */
  readonly present: number;
  /** Rows PostgreSQL held different and kept ({@link MovedTable.keepDifferent}). */
  readonly kept?: number;
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
  tables: readonly (MovedTable | MoveStep)[],
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
      const moved =
        'step' in table
          ? await table.run(client, db, (line) => progress(`${module}: ${line}`))
          : [await copyTable(client, db, module, table, progress)];
      for (const m of moved) {
        const kept = m.kept ? `, ${m.kept} kept PostgreSQL's` : '';
        progress(`${module}: ${m.table}: ${m.copied} copied, ${m.present} already there${kept}`);
      }
      done.push(...moved);
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
