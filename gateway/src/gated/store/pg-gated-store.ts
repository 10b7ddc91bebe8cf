import { inTransaction, type PgPool } from '../../storage/postgres/index.js';
import { PgAccountStore } from './postgres/pg-accounts.js';
import { PgBillingStore } from './postgres/pg-billing.js';
import { PgDecisionStore } from './postgres/pg-decisions.js';
import { PgDeviceStore } from './postgres/pg-devices.js';
import type { PgQueryable } from './postgres/pg-queryable.js';
import { PgAuditStore, PgPinAttemptStore } from './postgres/pg-records.js';
import { PgResidentStore } from './postgres/pg-residents.js';
import type { GatedStore, GatedTransactionStores } from './store.js';

/**
 * The gated stores with `storage.kind: postgres`: everything in the
 * cluster's database (migrated with `GATED_PG_MIGRATIONS`), shared by every
 * gateway: the residents, devices, audit log and wrong-PIN counts (a
 * resident added through one gateway is called through another; a lockout
 * set on one holds on all), the accounts, their money and the decisions.
 * Nothing of the gated module stays in the gateway's SQLite file. `owner` is
 * the gateway's instance id: a restart closes only the meters it opened.
 */
export function createPgGatedStore(pool: PgPool, owner: string): GatedStore {
  const writers = (db: PgQueryable): GatedTransactionStores => ({
    residents: new PgResidentStore(db),
    devices: new PgDeviceStore(db),
    audit: new PgAuditStore(db),
  });
  return {
    ...writers(pool),
    accounts: new PgAccountStore(pool),
    billing: new PgBillingStore(pool, owner),
    decisions: new PgDecisionStore(pool),
    pinAttempts: new PgPinAttemptStore(pool),
    transaction: (work) => inTransaction(pool, (client) => work(writers(client))),
  };
}
