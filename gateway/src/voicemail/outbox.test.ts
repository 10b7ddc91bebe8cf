/** The webhook outbox's contract (`outbox-contract.ts`) on SQLite; on PostgreSQL: `postgres/outbox.postgres.test.ts`. */
import { openDatabase } from '../storage/index.js';
import { webhookOutboxContract } from './outbox-contract.js';
import { SqliteWebhookOutbox } from './sqlite-outbox.js';
import { VOICEMAIL_SCHEMA } from './store.js';

webhookOutboxContract('SQLite', () => {
  // One gateway per file: its lanes' deliverers are the one object.
  const outbox = new SqliteWebhookOutbox(openDatabase(':memory:', [VOICEMAIL_SCHEMA]));
  return Promise.resolve({ a: outbox, b: outbox });
});
