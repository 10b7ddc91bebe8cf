import type { Config } from '../config/index.js';
import { FLOW_SCHEMA } from '../flows/index.js';
import { LEDGER_SCHEMA } from '../ledger/index.js';
import { MARKETPLACE_SCHEMA } from '../marketplace/index.js';
import { CALLBACKS_SCHEMA } from '../callbacks/index.js';
import { VOICEMAIL_SCHEMA } from '../voicemail/index.js';
import type { Logger } from '../observability/index.js';
import {
  SqliteAgentStore,
  SqliteCallStore,
  SqliteMessageStore,
  SqliteSessionStore,
  openDatabase,
  type InterruptedCall,
  type SqliteDatabase,
} from '../storage/index.js';

/** The gateway's database and the core stores on it; modules open their own stores on `db`. */
export interface Stores {
  readonly db: SqliteDatabase;
  readonly calls: SqliteCallStore;
  readonly sessions: SqliteSessionStore;
  readonly messages: SqliteMessageStore;
  readonly agents: SqliteAgentStore;
  /** Calls a crash or a kill left open, closed at open (their legs get a BYE once SIP listens). */
  readonly interrupted: readonly InterruptedCall[];
}

/** Opens the database with every module's schema and closes the records a crash left open. */
export async function openStores(
  config: Config,
  logger: Logger,
  now: () => number,
): Promise<Stores> {
  const db = openDatabase(config.storage.path, [
    LEDGER_SCHEMA,
    MARKETPLACE_SCHEMA,
    FLOW_SCHEMA,
    CALLBACKS_SCHEMA,
    VOICEMAIL_SCHEMA,
  ]);
  const calls = new SqliteCallStore(db);
  // So no record stays "in progress" for ever after a crash or a kill.
  const interrupted = await calls.closeInterrupted(now());
  if (interrupted.length > 0)
    logger.warn(
      { calls: interrupted.length },
      'closed the records of calls interrupted by the last stop',
    );
  return {
    db,
    calls,
    sessions: new SqliteSessionStore(db),
    messages: new SqliteMessageStore(db),
    agents: new SqliteAgentStore(db),
    interrupted,
  };
}
