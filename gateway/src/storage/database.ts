import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export type SqliteDatabase = Database.Database;

/**
 * The tables of one module (marketplace, voicemail, accounts…), versioned on
 * their own: each module's migrations are applied in order and counted in
 * `module_migrations`, so modules grow their schemas independently of each
 * other and of the core tables (`MIGRATIONS`, counted in `user_version`).
 * Never edit a released migration; add the next.
 */
export interface SchemaModule {
  readonly name: string;
  readonly migrations: readonly string[];
}

/** SQLite's page cache per connection when the config does not say (`storage.sqliteCacheMb`). */
const DEFAULT_CACHE_MB = 128;

/**
 * Opens (creating if needed) the SQLite file and brings its schema up to date:
 * the core tables first, then each module's.
 * WAL mode: readers (the HTTP API) never block the writer (the call path).
 * The page cache is `cacheMb` (SQLite's default, 2 MB, sent every index seek
 * into a 1,000,000-impression log to the kernel: call entries were matched
 * at 22,000/s with it and 38,000/s with 128 MB, `docs/benchmarks.md`); it
 * grows only as pages are read. Temporary tables (the call entries' chunk)
 * stay in memory.
 */
export function openDatabase(
  path: string,
  modules: readonly SchemaModule[] = [],
  options: { readonly cacheMb?: number } = {},
): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = ${-Math.round((options.cacheMb ?? DEFAULT_CACHE_MB) * 1024)}`);
  db.pragma('temp_store = MEMORY');
  migrate(db);
  for (const module of modules) migrateModule(db, module);
  return db;
}

function migrate(db: SqliteDatabase): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this gateway knows (${MIGRATIONS.length})`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version += 1) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] ?? '');
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

/** Applies the module's migrations not applied yet, each in a transaction with its count. */
export function migrateModule(db: SqliteDatabase, module: SchemaModule): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS module_migrations (module TEXT PRIMARY KEY, version INTEGER NOT NULL)',
  );
  const row = db
    .prepare<[string], { version: number }>(
      'SELECT version FROM module_migrations WHERE module = ?',
    )
    .get(module.name);
  const current = row?.version ?? 0;
  if (current > module.migrations.length) {
    throw new Error(
      `the ${module.name} tables are at version ${current}, newer than this gateway knows (${module.migrations.length})`,
    );
  }
  const save = db.prepare(
    'INSERT INTO module_migrations (module, version) VALUES (?, ?) ON CONFLICT (module) DO UPDATE SET version = excluded.version',
  );
  for (let version = current; version < module.migrations.length; version += 1) {
    db.transaction(() => {
      db.exec(module.migrations[version] ?? '');
      save.run(module.name, version + 1);
    })();
  }
}
