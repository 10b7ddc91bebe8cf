import type { SqliteDatabase } from '../../storage/index.js';
import { SqliteAccountStore } from './sqlite-accounts.js';
import { SqliteBillingStore } from './sqlite-billing.js';
import { SqliteDeviceStore } from './sqlite-devices.js';
import { SqliteAuditStore, SqliteDecisionStore, SqlitePinAttemptStore } from './sqlite-records.js';
import { SqliteResidentStore } from './sqlite-residents.js';
import type { GatedStore, GatedTransactionStores } from './store.js';

/**
 * The gated stores on one SQLite database opened with `GATED_SCHEMA`
 * (`openDatabase(path, [GATED_SCHEMA])`).
 */
export function createSqliteGatedStore(db: SqliteDatabase): GatedStore {
  const writers: GatedTransactionStores = {
    residents: new SqliteResidentStore(db),
    devices: new SqliteDeviceStore(db),
    audit: new SqliteAuditStore(db),
  };
  // One transaction at a time: a second waits for the first to end rather than nest in it.
  let last: Promise<unknown> = Promise.resolve();
  return {
    ...writers,
    accounts: new SqliteAccountStore(db),
    billing: new SqliteBillingStore(db),
    decisions: new SqliteDecisionStore(db),
    pinAttempts: new SqlitePinAttemptStore(db),
    transaction: <T>(work: (tx: GatedTransactionStores) => Promise<T>): Promise<T> => {
      // The stores answer at once, so the work runs to its end in microtasks, with no other
      // request's statements between BEGIN and COMMIT (the work must await only them).
      const run = async (): Promise<T> => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await work(writers);
          db.exec('COMMIT');
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        }
      };
      const result = last.then(run, run);
      last = result.catch(() => undefined);
      return result;
    },
  };
}
