import { createRequire } from 'node:module';
import type pg from 'pg';
import { PG_MIGRATIONS } from './pg-migrations.js';

let loaded: typeof pg | undefined;
/** node-postgres, loaded with the first pool: a gateway on SQLite never holds it. */
function pgModule(): typeof pg {
  loaded ??= createRequire(import.meta.url)('pg') as typeof pg;
  return loaded;
}

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

export interface PostgresSettings {
  readonly url?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly database?: string | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly poolSize?: number | undefined;
  readonly connectTimeoutMs?: number | undefined;
  readonly statementTimeoutMs?: number | undefined;
}

/**
 * BIGINT (int8) columns hold epoch milliseconds and ids: far below 2^53, so
 * numbers, as the SQLite stores give them (node-postgres gives strings).
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pgModule().types.builtins.INT8
      ? (value: string) => Number(value)
      : pgModule().types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** A pool to the database of `storage.postgres` (migrations not run: see {@link migratePostgres}). */
export function createPgPool(settings: PostgresSettings): PgPool {
  const pool = new (pgModule().Pool)({
    ...(settings.url !== undefined
      ? { connectionString: settings.url }
      : {
          host: settings.host,
          port: settings.port,
          database: settings.database,
          user: settings.user,
        }),
    ...(settings.password !== undefined ? { password: settings.password } : {}),
    max: settings.poolSize ?? 10,
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 5000,
    ...(settings.statementTimeoutMs ? { statement_timeout: settings.statementTimeoutMs } : {}),
    application_name: 'parley-gateway',
    types,
  });
  // An idle client's error (the server restarted) must not crash the process: the pool drops it.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(
  pool: PgPool,
  fn: (client: PgClient) => Promise<T>,
): Promise<T> {
  return withHeldClient(pool, (client) => onClient(client, fn));
}

/**
 * One connection of the pool held for `fn`. A connection that breaks meanwhile
 * (reset, a COMMIT whose answer is lost) rejects the query in flight, and its
 * 'error' must not crash the process (the pool listens only to idle ones); it
 * is released with the error, so the pool drops it.
 */
export async function withHeldClient<T>(
  pool: PgPool,
  fn: (client: PgClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    return await fn(client);
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** `inTransaction` on a connection the caller holds (the migrations' locked one). */
async function onClient<T>(client: PgClient, fn: (client: PgClient) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Any number that identifies Parley's migration lock among the database's advisory locks. */
const MIGRATION_LOCK = 0x5061726c; // "Parl"

/**
 * Brings the schema up to date: the core tables (`PG_MIGRATIONS`), then each
 * module's PostgreSQL migrations, each version in a transaction with its count
 * in `schema_migrations`. Gateways starting together take turns (an advisory
 * lock), so each version runs once. Throws when the database is newer than
 * this gateway, or a module has no PostgreSQL migrations.
 */
export async function migratePostgres(
  pool: PgPool,
  modules: readonly { readonly name: string; readonly postgres?: readonly string[] }[] = [],
): Promise<{ applied: number }> {
  let applied = 0;
  await withHeldClient(pool, async (client) => {
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT PRIMARY KEY, version INTEGER NOT NULL)',
      );
      const all = [{ name: 'core', postgres: PG_MIGRATIONS }, ...modules];
      for (const module of all) {
        const migrations = module.postgres;
        if (migrations === undefined)
          throw new Error(`the ${module.name} tables have no PostgreSQL migrations yet`);
        const row = await client.query<{ version: number }>(
          'SELECT version FROM schema_migrations WHERE module = $1',
          [module.name],
        );
        const current = row.rows[0]?.version ?? 0;
        if (current > migrations.length)
          throw new Error(
            `the ${module.name} tables are at version ${current}, newer than this gateway knows (${migrations.length})`,
          );
        for (let version = current; version < migrations.length; version += 1) {
          await onClient(client, async () => {
            await client.query(migrations[version] ?? '');
            await client.query(
              `INSERT INTO schema_migrations (module, version) VALUES ($1, $2)
             ON CONFLICT (module) DO UPDATE SET version = excluded.version`,
              [module.name, version + 1],
            );
          });
          applied += 1;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  });
  return { applied };
}
