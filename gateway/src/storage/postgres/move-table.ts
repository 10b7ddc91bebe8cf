/**
 * The copy of one table of a module (`sqlite-move.ts`), in the module's
 * transaction. Keyed tables go in batches of multi-row INSERTs (`ON CONFLICT
 * DO NOTHING RETURNING` the key): the rows a batch did not insert are read
 * back by key and compared column by column (equal: already there; different
 * or missing, i.e. held under another unique value: counted in the
 * module's {@link MoveConflicts}, which refuse it after its last table). A
 * table with a merge rule ({@link MovedTable.merge}: the PIN counts, the
 * number leases) sets the columns it names on a row held under the key
 * instead, the stricter of the two kept. The file's rows are read one at a time (`iterate`), so a log of millions
 * never sits in memory; a line of progress every {@link PROGRESS_EVERY} rows.
 */
import type { SqliteDatabase } from '../index.js';
import type { MoveConflicts } from './move-conflict.js';
import type { PgClient } from './pg-database.js';
import type { MovedTable, MoveProgress, TableMoved } from './sqlite-move.js';

/** PostgreSQL takes at most 65535 parameters a statement; 1000 rows a batch at most. */
const MAX_PARAMS = 30_000;
const MAX_ROWS = 1000;
export const PROGRESS_EVERY = 100_000;

type Row = Record<string, unknown>;

/** One value as both databases' rows are compared (BIGINT read as a number, BLOB/BYTEA as hex). */
function same(v: unknown): string | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return `x${Buffer.from(v).toString('hex')}`;
  return String(v as string | number | bigint);
}

const keyOf = (columns: readonly string[], row: Row) =>
  JSON.stringify(columns.map((c) => same(row[c])));

function sourceSql(spec: MovedTable): string {
  return spec.from ?? `SELECT ${spec.columns.join(', ')} FROM ${spec.table} ORDER BY ${spec.order}`;
}

function valuesOf(spec: MovedTable, row: Row): unknown[] {
  const booleans = new Set(spec.booleans ?? []);
  return spec.columns.map((c) => {
    const v = row[c] ?? null;
    return booleans.has(c) && v !== null ? v !== 0 : v;
  });
}

export async function copyTable(
  client: PgClient,
  db: SqliteDatabase,
  module: string,
  spec: MovedTable,
  progress: MoveProgress,
  conflicts: MoveConflicts,
): Promise<TableMoved> {
  if (spec.key === 'content') return copyByContent(client, db, spec);
  const key = spec.key;
  const total =
    db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM (${sourceSql(spec)})`).get()?.n ?? 0;
  const extra = Object.entries(spec.extra ?? {});
  const derived = Object.entries(spec.derived ?? {});
  const width = spec.columns.length + extra.length;
  const batchRows = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / width)));
  const columns = [...spec.columns, ...extra.map(([c]) => c), ...derived.map(([c]) => c)];
  const moved = { table: spec.table, copied: 0, present: 0, kept: 0, merged: 0 };
  const merge = Object.entries(spec.merge ?? {});
  let seen = 0;
  let batch: Row[] = [];

  const flush = async () => {
    if (batch.length === 0) return;
    const read = batch.length;
    if (merge.length > 0 && spec.conflictIf)
      batch = await withoutConflicts(client, spec, batch, conflicts);
    const params: unknown[] = [];
    const tuples = batch.map((row) => {
      const base = params.length;
      params.push(...valuesOf(spec, row), ...extra.map(([, v]) => v));
      const own = spec.columns.map((_, i) => `$${base + i + 1}`);
      const more = extra.map((_, i) => `$${base + spec.columns.length + i + 1}`);
      const exprs = derived.map(([, sql]) =>
        sql.replace(/:([a-z_]+)/g, (_, c: string) => `$${base + spec.columns.indexOf(c) + 1}`),
      );
      return `(${[...own, ...more, ...exprs].join(', ')})`;
    });
    if (batch.length === 0) {
      // Every row of the batch refused (conflicts): nothing to write.
    } else if (merge.length > 0) {
      // A row held under the key takes the rule's values; one already as strict is not written
      // (not returned). xmax = 0 tells a fresh row from an updated one.
      const { rows } = await client.query<{ inserted: boolean }>(
        `INSERT INTO ${spec.table} AS t (${columns.join(', ')}) VALUES ${tuples.join(', ')}
         ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${merge.map(([c, e]) => `${c} = ${e}`).join(', ')}
         WHERE ROW(${merge.map(([c]) => `t.${c}`).join(', ')}) IS DISTINCT FROM ROW(${merge.map(([, e]) => e).join(', ')})
         RETURNING (t.xmax = 0) AS inserted`,
        params,
      );
      const fresh = rows.filter((r) => r.inserted).length;
      moved.copied += fresh;
      moved.merged += rows.length - fresh;
      moved.present += batch.length - rows.length;
    } else {
      const inserted = await client.query<Row>(
        `INSERT INTO ${spec.table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}
         ON CONFLICT DO NOTHING RETURNING ${key.join(', ')}`,
        params,
      );
      moved.copied += inserted.rows.length;
      if (inserted.rows.length < batch.length) {
        const fresh = new Set(inserted.rows.map((r) => keyOf(key, r)));
        await compareHeld(
          client,
          spec,
          key,
          batch.filter((r) => !fresh.has(keyOf(key, r))),
          moved,
          conflicts,
        );
      }
    }
    seen += read;
    batch = [];
    if (total > PROGRESS_EVERY && seen % PROGRESS_EVERY < batchRows)
      progress(`${module}: ${spec.table}: ${seen} of ${total} rows`);
  };

  for (const row of db.prepare<[], Row>(sourceSql(spec)).iterate()) {
    batch.push(row);
    if (batch.length >= batchRows) await flush();
  }
  await flush();
  return {
    table: moved.table,
    copied: moved.copied,
    present: moved.present,
    ...(moved.kept > 0 ? { kept: moved.kept } : {}),
    ...(moved.merged > 0 ? { merged: moved.merged } : {}),
  };
}

/** The rows PostgreSQL holds under the keys of `rows` (the table's columns). */
async function heldRows(
  client: PgClient,
  spec: MovedTable,
  key: readonly string[],
  rows: readonly Row[],
): Promise<Map<string, Row>> {
  const params: unknown[] = [];
  const where = rows.map((row) => {
    const terms = key.map((c) => {
      params.push(row[c] ?? null);
      return `${c} = $${params.length}`;
    });
    return `(${terms.join(' AND ')})`;
  });
  const held = await client.query<Row>(
    `SELECT ${spec.columns.join(', ')} FROM ${spec.table} WHERE ${where.join(' OR ')}`,
    params,
  );
  return new Map(held.rows.map((r) => [keyOf(key, r), r]));
}

/** `batch` less the rows {@link MovedTable.conflictIf} refuses (recorded as conflicts). */
async function withoutConflicts(
  client: PgClient,
  spec: MovedTable,
  batch: readonly Row[],
  conflicts: MoveConflicts,
): Promise<Row[]> {
  const key = spec.key as readonly string[];
  const byKey = await heldRows(client, spec, key, batch);
  return batch.filter((row) => {
    const there = byKey.get(keyOf(key, row));
    if (!there || !spec.conflictIf?.(there, row)) return true;
    conflicts.add(spec.table, key, row);
    return false;
  });
}

/** The rows a batch found held: equal is there, different or missing a conflict. */
async function compareHeld(
  client: PgClient,
  spec: MovedTable,
  key: readonly string[],
  rows: readonly Row[],
  moved: { present: number; kept: number },
  conflicts: MoveConflicts,
): Promise<void> {
  const byKey = await heldRows(client, spec, key, rows);
  for (const row of rows) {
    const there = byKey.get(keyOf(key, row));
    const values = valuesOf(spec, row);
    const equal =
      there !== undefined && spec.columns.every((c, i) => same(there[c]) === same(values[i]));
    if (equal) moved.present += 1;
    else if (there !== undefined && spec.keepDifferent) moved.kept += 1;
    else conflicts.add(spec.table, key, row);
  }
}

/**
 * A table whose key is a serial number each database gives itself (the audit
 * log): the k-th row of equal content in the file is there when PostgreSQL
 * holds k of them; row by row (such tables are small).
 */
async function copyByContent(
  client: PgClient,
  db: SqliteDatabase,
  spec: MovedTable,
): Promise<TableMoved> {
  const extra = Object.entries(spec.extra ?? {});
  const columns = [...spec.columns, ...extra.map(([c]) => c)];
  const insert = `INSERT INTO ${spec.table} (${columns.join(', ')})
    VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
  const equal = `SELECT count(*)::int AS n FROM ${spec.table} WHERE ${spec.columns
    .map((c, i) => `${c} IS NOT DISTINCT FROM $${i + 1}`)
    .join(' AND ')}`;
  const seen = new Map<string, number>();
  let copied = 0;
  let present = 0;
  for (const row of db.prepare<[], Row>(sourceSql(spec)).all()) {
    const values = valuesOf(spec, row);
    const content = JSON.stringify(values.map(same));
    const k = (seen.get(content) ?? 0) + 1;
    seen.set(content, k);
    const { rows: held } = await client.query<{ n: number }>(equal, values);
    if ((held[0]?.n ?? 0) >= k) present += 1;
    else {
      await client.query(insert, [...values, ...extra.map(([, v]) => v)]);
      copied += 1;
    }
  }
  return { table: spec.table, copied, present };
}
