/**
 * What the marketplace benchmark's phases share: a marketplace on a SQLite
 * file (or on PostgreSQL, `storage.kind: postgres`), the print-out, the
 * machine gauge.
 */
import { loadavg } from 'node:os';
import { configSchema } from '../../../gateway/src/config/schema.js';
import { LEDGER_PG_MIGRATIONS } from '../../../gateway/src/ledger/index.js';
import {
  MARKETPLACE_PG_MIGRATIONS,
  Marketplace,
  PgCharges,
} from '../../../gateway/src/marketplace/index.js';
import { createLogger } from '../../../gateway/src/observability/index.js';
import { openDatabase, type SqliteDatabase } from '../../../gateway/src/storage/index.js';
import {
  createPgPool,
  migratePostgres,
  type PgPool,
} from '../../../gateway/src/storage/postgres/index.js';

export type Print = (line: string) => void;

const logger = createLogger('silent');
export const environment = {
  tenantExists: (t: string) => t === 'acme',
  queueTenant: (q: string) => (q === 'sales' ? 'acme' : undefined),
  agentTenant: () => undefined,
};

/**
 * `start` loads the index and runs crash recovery: once per file, never in
 * the ledger's racing processes. `pool`: the marketplace's tables in
 * PostgreSQL (as `storage.kind: postgres` wires them).
 */
export async function marketplaceOn(
  db: SqliteDatabase,
  input: Record<string, unknown> = {},
  start = true,
  pool?: PgPool,
): Promise<Marketplace> {
  const m = new Marketplace({
    db,
    config: configSchema.shape.marketplace.parse(input),
    environment,
    logger,
    ...(pool ? { shared: new PgCharges(pool, 'USD'), instanceId: 'bench' } : {}),
  });
  if (start) await m.start();
  return m;
}

/** A pool on a fresh database of the PostgreSQL at `url`, migrated with the ledger's and the marketplace's tables. */
export async function pgPool(url: string): Promise<PgPool> {
  const pool = createPgPool({ url, poolSize: 4 });
  await migratePostgres(pool, [
    { name: 'ledger', postgres: LEDGER_PG_MIGRATIONS },
    { name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS },
  ]);
  return pool;
}

/**
 * A gauge of the machine at the time of the run (it is shared, and its speed
 * moves with the load): SQLite primary-key lookups per second on an
 * in-memory table of 100,000 rows, with the load average.
 */
export function calibrate(print: Print): void {
  const db = openDatabase(':memory:');
  db.exec('CREATE TABLE gauge (id TEXT PRIMARY KEY, v INTEGER)');
  const insert = db.prepare('INSERT INTO gauge VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 100_000; i += 1) insert.run(`k${i}`, i);
  })();
  const get = db.prepare('SELECT * FROM gauge WHERE id = ?');
  const start = performance.now();
  for (let i = 0; i < 100_000; i += 1) get.get(`k${(i * 7919) % 100_000}`);
  const rate = 100_000 / ((performance.now() - start) / 1000);
  print(
    `machine gauge: ${Math.round(rate)} SQLite key lookups/s, load average ${loadavg()[0]?.toFixed(1)}`,
  );
  db.close();
}
