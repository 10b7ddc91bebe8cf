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
 * module with `store_move_conflict` once all its tables are read, rolled
 * back, naming per table the key columns, the count and the first keys
 * (`move-conflict.ts`); a table with a merge rule (the wrong-PIN counts, the
 * running number leases) keeps the stricter of the two rows instead. The
 * module's transaction records the move in PostgreSQL, and the file is
 * marked in the run's one SQLite transaction (`move-marks.ts`): the
 * gateway's start-up check then passes while the file holds nothing beyond
 * what was moved, and a later run skips the module (or moves the rows
 * written since). The file's rows stay (nothing is deleted from it).
 */
import { ParleyError } from '@parley/shared/errors';
import type { SqliteDatabase } from '../index.js';
import {
  beyondMoved,
  fileIdentity,
  fileMark,
  markFile,
  markPg,
  pgMark,
  tableMarks,
  type TableMarks,
} from './move-marks.js';
import { MoveConflicts, StoreMoveConflict } from './move-conflict.js';
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
  /** The file table \`from\` reads, watched for rows written after the move (none: not watched). */
  readonly source?: string;
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
  /**
   * A row PostgreSQL holds under the key is merged, not compared: each column
   * named is set to its SQL expression over PostgreSQL's row (\`t.\`) and the
   * file's (\`excluded.\`); for rows whose stricter value is the safe one (a
   * wrong-PIN count and its lockout, a number lease's end: \`GREATEST\`).
   */
  readonly merge?: Readonly<Record<string, string>>;
  /**
   * With `merge`: a row PostgreSQL holds under the key that must not be merged
   * but refused as a conflict (PostgreSQL's row, the file's): a tracking number
   * another gateway has leased meanwhile to someone else.
   */
  readonly conflictIf?: (
    held: Readonly<Record<string, unknown>>,
    row: Readonly<Record<string, unknown>>,
  ) => boolean;
}

/**
 * A step of a module's move that is not a plain copy (the ledger: its
 * transactions get PostgreSQL's ids, their postings follow), run in the
 * module's transaction.
 */
export interface MoveStep {
  readonly step: string;
  /** The file tables it reads (watched for rows written after the move). */
  readonly sources: readonly string[];
  run(
    client: PgClient,
    db: SqliteDatabase,
    progress: MoveProgress,
    conflicts: MoveConflicts,
  ): Promise<readonly TableMoved[]>;
}

export interface TableMoved {
  readonly table: string;
  readonly copied: number;
  /** Rows PostgreSQL already held, equal (a second run). */
  readonly present: number;
  /** Rows PostgreSQL held different and kept ({@link MovedTable.keepDifferent}). */
  readonly kept?: number;
  /** Rows PostgreSQL held different and merged ({@link MovedTable.merge}). */
  readonly merged?: number;
}

export type MoveProgress = (line: string) => void;

export type ModuleMove =
  | { readonly module: string; readonly skipped: true; readonly movedAt: number }
  | { readonly module: string; readonly skipped: false; readonly tables: readonly TableMoved[] };

/** The SQLite tables a module's move reads (the start-up check's watch on rows written later). */
function sourcesOf(tables: readonly (MovedTable | MoveStep)[]): string[] {
  return tables.flatMap((t) =>
    'step' in t ? [...t.sources] : t.from ? (t.source ? [t.source] : []) : [t.table],
  );
}

/**
 * What a module moved before must copy again: all of it, unless the only
 * tables past its mark are merge tables the mark does not name (added to the
 * module after the file was moved by an earlier version: the wrong-PIN
 * counts). Then those alone: copying the rest again would compare every row
 * the cluster changed since (a credited balance) and refuse it as a conflict.
 */
function toCopyAgain(
  tables: readonly (MovedTable | MoveStep)[],
  marked: TableMarks,
  now: TableMarks,
): readonly (MovedTable | MoveStep)[] {
  const beyond = Object.keys(now).filter(
    (table) =>
      beyondMoved(marked, { [table]: now[table] ?? { rows: 0, maxRowid: null } }).length > 0,
  );
  const added = tables.filter(
    (t): t is MovedTable =>
      !('step' in t) && t.merge !== undefined && !t.from && !(t.table in marked),
  );
  const names = new Set(added.map((t) => t.table));
  return beyond.length > 0 && beyond.every((t) => names.has(t)) ? added : tables;
}

/** When `module`'s rows were moved out of this SQLite file, or undefined. */
export function movedAt(db: SqliteDatabase, module: string): number | undefined {
  return fileMark(db, module)?.movedAt;
}

/** The command that moves them, as the refusals at start name it. */
export const MOVE_COMMAND =
  'node --conditions=parley-dist gateway/dist/main.js move -c parley.json';

/**
 * The gateway's start-up check on PostgreSQL: the file holds `counts` rows of
 * a module that is not marked moved, or rows written after its move (a
 * gateway that went on writing to the file). Started, it would read them as
 * none.
 */
export function refuseUnmoved(
  db: SqliteDatabase,
  module: string,
  counts: Readonly<Record<string, number>>,
  what: string,
): void {
  const mark = fileMark(db, module);
  const how = `${MOVE_COMMAND} (docs/scaling.md, "Moving a SQLite file's rows")`;
  if (mark) {
    const beyond = beyondMoved(mark.tables, tableMarks(db, Object.keys(mark.tables)));
    if (beyond.length === 0) return;
    throw new ParleyError(
      'invalid_config',
      `\n  - storage.kind: the SQLite file holds ${module} rows written after they were moved to PostgreSQL on ${new Date(mark.movedAt).toISOString()} (${beyond.join('; ')}); started on PostgreSQL they would read as none (${what}). Move them too: ${how}.`,
    );
  }
  const held = Object.entries(counts).filter(([, n]) => n > 0);
  if (held.length === 0) return;
  throw new ParleyError(
    'invalid_config',
    `\n  - storage.kind: the SQLite file holds ${module} rows from before they moved to PostgreSQL (${held.map(([table, n]) => `${n} ${table}`).join(', ')}); started on PostgreSQL they would read as none (${what}). Move them first: ${how}.`,
  );
}

/**
 * Moves every module of the file, in order, inside one SQLite `BEGIN
 * IMMEDIATE` transaction: the file's tables are read as of one moment, no
 * other process writes to it meanwhile (a gateway still running on it waits
 * up to its busy timeout, then fails those writes), and the marks land with
 * that moment's counts. A killed run leaves the file unmarked; the modules
 * it committed are found in PostgreSQL's record by the next run.
 */
export async function moveFile(
  db: SqliteDatabase,
  pool: PgPool,
  owner: string,
  modules: readonly (readonly [string, readonly (MovedTable | MoveStep)[]])[],
  progress: MoveProgress,
): Promise<readonly ModuleMove[]> {
  const fileId = fileIdentity(db, owner);
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    throw new ParleyError(
      'store_move_busy',
      'another process is writing to the SQLite file (a gateway still running on it?): stop it, then move',
    );
  }
  progress(
    'the SQLite file is held for writing until the move ends: a gateway still running on it waits, then fails its writes (stop it first)',
  );
  try {
    const moves: ModuleMove[] = [];
    for (const [module, tables] of modules)
      moves.push(await moveModule(db, pool, fileId, module, tables, progress));
    db.exec('COMMIT');
    progress('marks written to the SQLite file');
    return moves;
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
  }
}

/**
 * Moves `tables` of `module` in one PostgreSQL transaction (with PostgreSQL's
 * record of the move), then marks the file; skips a module marked in the
 * file, or recorded in PostgreSQL, whose tables hold nothing beyond what
 * was moved. Run inside {@link moveFile}'s SQLite transaction.
 */
export async function moveModule(
  db: SqliteDatabase,
  pool: PgPool,
  fileId: string,
  module: string,
  tables: readonly (MovedTable | MoveStep)[],
  progress: MoveProgress,
): Promise<ModuleMove> {
  const now = tableMarks(db, sourcesOf(tables));
  const inFile = fileMark(db, module);
  if (inFile) {
    const beyond = beyondMoved(inFile.tables, now);
    if (beyond.length === 0) {
      progress(`${module}: already moved (${new Date(inFile.movedAt).toISOString()}), skipped`);
      return { module, skipped: true, movedAt: inFile.movedAt };
    }
    progress(`${module}: rows written since its move (${beyond.join('; ')}): moving again`);
  }
  const inPg = await pgMark(pool, fileId, module);
  if (inPg && Object.keys(inPg.tables).length > 0 && beyondMoved(inPg.tables, now).length === 0) {
    markFile(db, module, inPg);
    progress(
      `${module}: already moved (${new Date(inPg.movedAt).toISOString()}, recorded in PostgreSQL), marked in the SQLite file, skipped`,
    );
    return { module, skipped: true, movedAt: inPg.movedAt };
  }
  const marked = inFile?.tables ?? inPg?.tables;
  const copied = marked ? toCopyAgain(tables, marked, now) : tables;
  progress(
    copied === tables
      ? `${module}: moving`
      : `${module}: moving ${copied.map((t) => ('step' in t ? '' : t.table)).join(', ')} alone (not in its mark: added to the module after the file was moved)`,
  );
  const client = await pool.connect();
  const done: TableMoved[] = [];
  const mark = { movedAt: Date.now(), tables: now };
  const conflicts = new MoveConflicts();
  try {
    await client.query('BEGIN');
    for (const table of copied) {
      const moved =
        'step' in table
          ? await table.run(client, db, (line) => progress(`${module}: ${line}`), conflicts)
          : [await copyTable(client, db, module, table, progress, conflicts)];
      for (const m of moved) {
        const kept = m.kept ? `, ${m.kept} kept PostgreSQL's` : '';
        const merged = m.merged ? `, ${m.merged} merged with PostgreSQL's` : '';
        progress(
          `${module}: ${m.table}: ${m.copied} copied, ${m.present} already there${kept}${merged}`,
        );
      }
      done.push(...moved);
    }
    const refused = conflicts.error(module);
    if (refused) throw refused;
    await markPg(client, fileId, module, mark);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (error instanceof StoreMoveConflict) throw error;
    // A table that failed after rows differed: the differing rows are what to act on.
    throw conflicts.error(module, error) ?? error;
  } finally {
    client.release();
  }
  // Committed with PostgreSQL's record: a kill before the file's COMMIT is found there next run.
  markFile(db, module, mark);
  const rows = done.reduce((n, t) => n + t.copied + t.present, 0);
  progress(`${module}: moved (${rows} rows), recorded in PostgreSQL`);
  return { module, skipped: false, tables: done };
}
