/**
 * The PostgreSQL of a test file (`*.postgres.test.ts`): the testkit's server
 * (Debian's PostgreSQL on 127.0.0.1) started before the file's tests and
 * stopped after them, fresh databases on it, pools ended after the file.
 * One place for what each PostgreSQL test file set up by hand.
 */
import { startPostgres, type Postgres } from '@parley/testkit';
import { afterAll, beforeAll } from 'vitest';
import { createPgPool, migratePostgres, type PgPool } from './pg-database.js';

type Modules = Parameters<typeof migratePostgres>[1];

export interface TestPostgres {
  /** A fresh, empty database's URL (`<prefix>_<n>`). */
  database(): Promise<string>;
  /** A pool to `url`, ended after the file's tests. */
  pool(url: string, poolSize?: number): PgPool;
  /** A fresh database migrated with `modules`, and a pool to it. */
  migrated(modules: Modules, poolSize?: number): Promise<PgPool>;
}

/** Registers the file's hooks; call at the top level of a test file. */
export function useTestPostgres(prefix: string): TestPostgres {
  let server: Postgres | undefined;
  const pools: PgPool[] = [];
  let databases = 0;
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await server?.stop();
  });
  const api: TestPostgres = {
    database() {
      if (!server) throw new Error('PostgreSQL is not started yet (use it inside a test or hook)');
      return server.createDatabase(`${prefix}_${(databases += 1)}`);
    },
    pool(url, poolSize) {
      const pool = createPgPool({ url, ...(poolSize === undefined ? {} : { poolSize }) });
      pools.push(pool);
      return pool;
    },
    async migrated(modules, poolSize) {
      const pool = api.pool(await api.database(), poolSize);
      await migratePostgres(pool, modules);
      return pool;
    },
  };
  return api;
}
