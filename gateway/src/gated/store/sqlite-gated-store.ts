import type { SqliteDatabase } from '../../storage/index.js';
import { SqliteAccountStore } from './sqlite-accounts.js';
import { SqliteBillingStore } from './sqlite-billing.js';
import { SqliteDeviceStore } from './sqlite-devices.js';
import { SqliteAuditStore, SqliteDecisionStore, SqlitePinAttemptStore } from './sqlite-records.js';
import { SqliteResidentStore } from './sqlite-residents.js';
import type { GatedStore } from './store.js';

/**
 * The gated stores on one SQLite database opened with `GATED_SCHEMA`
 * (`openDatabase(path, [GATED_SCHEMA])`).
 */
export function createSqliteGatedStore(db: SqliteDatabase): GatedStore {
  return {
    residents: new SqliteResidentStore(db),
    devices: new SqliteDeviceStore(db),
    accounts: new SqliteAccountStore(db),
    billing: new SqliteBillingStore(db),
    decisions: new SqliteDecisionStore(db),
    audit: new SqliteAuditStore(db),
    pinAttempts: new SqlitePinAttemptStore(db),
    transaction: <T>(work: () => T): T => db.transaction(work)(),
  };
}
