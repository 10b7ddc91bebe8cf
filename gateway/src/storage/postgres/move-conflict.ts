/**
 * What a module's move found PostgreSQL holding different from the SQLite
 * file under a key it copies (`sqlite-move.ts`): a row changed in the file
 * after its move (the gateway ran on SQLite again), or changed by the
 * cluster, or a key another gateway's row holds. The move of the module goes
 * on reading all of its tables, then stops with one `store_move_conflict`
 * naming, per table, the key columns, how many rows differ and the keys of
 * the first {@link KEYS_SHOWN}, in its detail (the CLI's output) and its JSON
 * (`toJSON`, printed by the CLI too), so an operator can compare the rows
 * and settle them (docs/scaling.md, "When the move refuses"). Nothing of the
 * module is written: money rows are never overwritten.
 */
import { ParleyError, type ErrorBody } from '@parley/shared/errors';

/** Keys named per table; the count says how many more. */
export const KEYS_SHOWN = 5;

export type ConflictKey = Readonly<Record<string, string | null>>;

export interface ConflictedTable {
  readonly table: string;
  /** The key columns the rows are known by. */
  readonly key: readonly string[];
  /** How many of the file's rows PostgreSQL holds different. */
  readonly rows: number;
  /** The first {@link KEYS_SHOWN} of their keys, in the file's order. */
  readonly first: readonly ConflictKey[];
}

export interface StoreMoveConflictBody extends ErrorBody {
  error: ErrorBody['error'] & { module: string; tables: readonly ConflictedTable[] };
}

const keyText = (key: ConflictKey) =>
  Object.entries(key)
    .map(([c, v]) => `${c}=${v ?? 'NULL'}`)
    .join(' ');

function describe(module: string, tables: readonly ConflictedTable[]): string {
  const rows = tables.reduce((n, t) => n + t.rows, 0);
  const lines = tables.map((t) => {
    const more = t.rows > t.first.length ? `; and ${t.rows - t.first.length} more` : '';
    return `\n  ${t.table} (${t.key.join(', ')}): ${t.rows} differing: ${t.first.map(keyText).join('; ')}${more}`;
  });
  return `${module}: PostgreSQL holds ${rows} row${rows === 1 ? '' : 's'} different from the SQLite file's under the same key (or one of its unique values); nothing of ${module} was moved:${lines.join('')}`;
}

export class StoreMoveConflict extends ParleyError<'store_move_conflict'> {
  override readonly name = 'StoreMoveConflict';
  readonly module: string;
  readonly tables: readonly ConflictedTable[];

  constructor(module: string, tables: readonly ConflictedTable[], options?: { cause?: unknown }) {
    super('store_move_conflict', describe(module, tables), { expose: true, ...options });
    this.module = module;
    this.tables = tables;
  }

  override toJSON(): StoreMoveConflictBody {
    const body = super.toJSON();
    return { error: { ...body.error, module: this.module, tables: this.tables } };
  }
}

/** The differing rows of one module's move, gathered while it reads on. */
export class MoveConflicts {
  readonly #tables = new Map<
    string,
    { key: readonly string[]; rows: number; first: ConflictKey[] }
  >();

  /** A file row PostgreSQL holds different: `row`'s values of `key` name it. */
  add(table: string, key: readonly string[], row: Readonly<Record<string, unknown>>): void {
    let t = this.#tables.get(table);
    if (!t) this.#tables.set(table, (t = { key, rows: 0, first: [] }));
    t.rows += 1;
    if (t.first.length < KEYS_SHOWN)
      t.first.push(
        Object.fromEntries(
          key.map((c) => {
            const v = row[c];
            return [c, v === null || v === undefined ? null : String(v as string | number)];
          }),
        ),
      );
  }

  get size(): number {
    return this.#tables.size;
  }

  /** The module's refusal, or undefined when no row differed. */
  error(module: string, cause?: unknown): StoreMoveConflict | undefined {
    if (this.#tables.size === 0) return undefined;
    const tables = [...this.#tables].map(([table, t]) => ({ table, ...t }));
    return new StoreMoveConflict(module, tables, cause === undefined ? {} : { cause });
  }
}
