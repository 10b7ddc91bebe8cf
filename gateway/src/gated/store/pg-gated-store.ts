import type { SqliteDatabase } from '../../storage/index.js';
import type { PgPool } from '../../storage/postgres/index.js';
import { PgAccountStore } from './postgres/pg-accounts.js';
import { PgBillingStore } from './postgres/pg-billing.js';
import { PgDecisionStore } from './postgres/pg-decisions.js';
import { createSqliteGatedStore } from './sqlite-gated-store.js';
import type { GatedStore } from './store.js';

/**
 * The gated stores with `storage.kind: postgres`: the accounts, their money
 * and the decisions in the cluster's database (migrated with
 * `GATED_PG_MIGRATIONS`); the residents, devices, audit log and PIN counts
 * still in the gateway's SQLite file (`GATED_SCHEMA`). `owner` is the
 * gateway's instance id: a restart closes only the meters it opened.
 */
export function createPgGatedStore(db: SqliteDatabase, pool: PgPool, owner: string): GatedStore {
  return {
    ...createSqliteGatedStore(db),
    accounts: new PgAccountStore(pool),
    billing: new PgBillingStore(pool, owner),
    decisions: new PgDecisionStore(pool),
  };
}
