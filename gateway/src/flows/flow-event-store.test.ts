import { openDatabase } from '../storage/index.js';
import { flowEventStoreContract } from './flow-event-store-contract.js';
import { FLOW_SCHEMA, SqliteFlowEventStore } from './flow-event-store.js';

flowEventStoreContract('SQLite', () =>
  Promise.resolve({ store: new SqliteFlowEventStore(openDatabase(':memory:', [FLOW_SCHEMA])) }),
);
