/** The callback store's contract (`store-contract.ts`) on SQLite; on PostgreSQL: `stores.postgres.test.ts`. */
import { openDatabase } from '../storage/index.js';
import { CALLBACKS_SCHEMA } from './schema.js';
import { SqliteCallbackStore } from './sqlite-store.js';
import { callbackStoreContract } from './store-contract.js';

callbackStoreContract('SQLite', async () => ({
  store: new SqliteCallbackStore(openDatabase(':memory:', [CALLBACKS_SCHEMA])),
}));
