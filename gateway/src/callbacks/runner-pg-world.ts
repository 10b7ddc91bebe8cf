/**
 * The {@link runnerWorld} on a real PostgreSQL (the testkit's), its pool
 * behind a proxy that reads the frontend protocol (`test-pg-proxy.ts`), for
 * `runner.postgres.test.ts` and `lost.postgres.test.ts`; the statements'
 * markers the proxy cuts or holds.
 */
import { migratePostgres } from '../storage/postgres/index.js';
import { startPgProxy, type PgProxy } from '../storage/postgres/test-pg-proxy.js';
import type { TestPostgres } from '../storage/postgres/test-postgres.js';
import { CALLBACKS_PG_MIGRATIONS } from './pg-schema.js';
import { PgCallbackStore } from './pg-store.js';
import { runnerWorld, type Scheduling } from './runner-world.js';

/** Every claim (first or asked again), a claim asked again, the record's writes, a conditional one. */
export const CLAIM = 'claim_token = $';
export const CLAIM_AGAIN = "OR (state = 'calling' AND claim_token";
export const SAVE = "state <> 'ended'";
export const SAVE_IF = 'AND state = $';
/** A survivor's take-over of a lost gateway's scheduled callbacks. */
export const ADOPT = 'SET owner = $2';

/**
 * Gateway `gw-a`'s world through a new proxy (kept in `proxies`, closed by
 * the test file); `rows` reads and writes past it, as `gw-a`; `other` is
 * gateway `gw-b`'s service, straight to the server.
 */
export async function pgRunnerWorld(pg: TestPostgres, proxies: PgProxy[], scheduling?: Scheduling) {
  const url = await pg.database();
  const direct = pg.pool(url, 2);
  await migratePostgres(direct, [{ name: 'callbacks', postgres: CALLBACKS_PG_MIGRATIONS }]);
  const server = new URL(url);
  const proxy = await startPgProxy({ host: server.hostname, port: Number(server.port) });
  proxies.push(proxy);
  const store = new PgCallbackStore(pg.pool(proxy.via(url), 4), 'gw-a');
  const rows = new PgCallbackStore(direct, 'gw-a');
  const other = runnerWorld(new PgCallbackStore(direct, 'gw-b')).service;
  return { proxy, direct, rows, other, store, ...runnerWorld(store, scheduling) };
}
