/** The voicemail store's contract (`store-contract.ts`) on SQLite; on PostgreSQL: `postgres/stores.postgres.test.ts`. */
import { openDatabase } from '../storage/index.js';
import { SqliteVoicemailStore } from './sqlite-store.js';
import { VOICEMAIL_SCHEMA } from './store.js';
import { voicemailStoreContract } from './store-contract.js';

voicemailStoreContract('SQLite', async () => ({
  store: new SqliteVoicemailStore(openDatabase(':memory:', [VOICEMAIL_SCHEMA]), 'gw-a'),
}));
