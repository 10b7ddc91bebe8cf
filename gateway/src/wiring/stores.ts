import { ParleyError } from '@parley/shared/errors';
import type { Config } from '../config/index.js';
import {
  FLOW_PG_MIGRATIONS,
  FLOW_SCHEMA,
  FlowEventJournal,
  PgFlowEventStore,
  moveFlowEventJournal,
  refuseUnmovedFlows,
  newestFlowEventJournalRow,
  SqliteFlowEventStore,
  type FlowEventStore,
} from '../flows/index.js';
import { GATED_PG_MIGRATIONS } from '../gated/index.js';
import { LEDGER_PG_MIGRATIONS, LEDGER_SCHEMA, refuseUnmovedLedger } from '../ledger/index.js';
import {
  MARKETPLACE_PG_MIGRATIONS,
  MARKETPLACE_SCHEMA,
  PgCharges,
  refuseUnmovedMarketplace,
} from '../marketplace/index.js';
import { CALLBACKS_PG_MIGRATIONS, CALLBACKS_SCHEMA } from '../callbacks/index.js';
import {
  VOICEMAIL_PG_MIGRATIONS,
  VOICEMAIL_SCHEMA,
  refuseUnmovedVoicemail,
} from '../voicemail/index.js';
import type { Logger } from '../observability/index.js';
import {
  SqliteAgentStore,
  SqliteCallStore,
  SqliteMessageStore,
  SqliteSessionStore,
  openDatabase,
  refuseUnmovedCore,
  type AgentStore,
  type CallStore,
  type InterruptedCall,
  type MessageStore,
  type SessionStore,
  type SharedCallRecords,
  type SqliteDatabase,
} from '../storage/index.js';
import {
  JournalMover,
  KeyedQueue,
  PgAgentStore,
  PgCallStore,
  PgMessageStore,
  PgSessionStore,
  createPgPool,
  migratePostgres,
  type PgPool,
} from '../storage/postgres/index.js';

/**
 * The gateway's core stores (call records and their messages, web sessions
 * and their numbers, API-made agents) and the SQLite database the modules
 * keep their own tables in (`db`).
 */
export interface Stores {
  /**
   * The modules' tables (flows, voicemail, marketplace, ledger, gated,
   * callbacks). With PostgreSQL the marketplace's money is in {@link sharedMoney},
   * the voicemail index and the callbacks in {@link pool}, the flow events in {@link flowEvents}.
   */
  readonly db: SqliteDatabase;
  /**
   * With `storage.kind: postgres`: the ledger and the listings' daily spend in
   * PostgreSQL, shared by every gateway (the marketplace's balances, charges,
   * deposits and refunds). Undefined with SQLite.
   */
  readonly sharedMoney: PgCharges | undefined;
  /**
   * With `storage.kind: postgres`: the shared database, for the modules'
   * stores ported to it (the voicemail index; the gated accounts, their money
   * and the decisions; the callbacks). Undefined with SQLite.
   */
  readonly pool: PgPool | undefined;
  readonly calls: CallStore;
  readonly sessions: SessionStore;
  readonly messages: MessageStore;
  readonly agents: AgentStore;
  /**
   * What each call's flow did (`flow_events`): in the SQLite file, or with
   * PostgreSQL shared by the cluster (journalled in the SQLite file when the
   * runner's `event` returns, written to PostgreSQL in order per call after).
   */
  readonly flowEvents: FlowEventStore;
  /** Calls a crash or a kill left open, closed at open (their legs get a BYE once SIP listens). */
  readonly interrupted: readonly InterruptedCall[];
  /** Which database holds the core stores. */
  readonly kind: 'sqlite' | 'postgres';
  /** The call records other gateways share (PostgreSQL only): a survivor closes a dead gateway's. */
  readonly shared: SharedCallRecords | undefined;
  /** Closes the databases (after every writer stopped). */
  close(): Promise<void>;
}

/**
 * Opens the databases and closes the records a crash left open. With
 * `storage.kind: postgres` the core stores are PostgreSQL's (migrated at
 * start, under an advisory lock so gateways starting together take turns),
 * and a restarted gateway closes only its own calls (`owner` is
 * `shared.instanceId`); so is the marketplace's money (the ledger and the
 * listings' daily spend, `sharedMoney`), the voicemail index (`pool`) and
 * the flows' events (`flowEvents`; those the last stop left in the SQLite
 * journal are moved there first). The modules' other tables stay in
 * the SQLite file at `storage.path` until they are ported (docs/scaling.md).
 */
export async function openStores(
  config: Config,
  logger: Logger,
  now: () => number,
  options: {
    /**
     * Only bring the schemas up to date (`parley-gateway migrate`): no
     * interrupted call is closed, since a running gateway may own them.
     */
    readonly migrateOnly?: boolean;
  } = {},
): Promise<Stores> {
  const db = openDatabase(
    config.storage.path,
    [LEDGER_SCHEMA, MARKETPLACE_SCHEMA, FLOW_SCHEMA, CALLBACKS_SCHEMA, VOICEMAIL_SCHEMA],
    { cacheMb: config.storage.sqliteCacheMb },
  );
  if (config.storage.kind === 'postgres' && !options.migrateOnly) {
    // Rows the file kept from SQLite days would read as none: refused until moved.
    try {
      for (const refuse of [
        refuseUnmovedCore,
        refuseUnmovedLedger,
        refuseUnmovedMarketplace,
        refuseUnmovedVoicemail,
        refuseUnmovedFlows,
      ])
        refuse(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }
  const core = await coreStores(config, db, logger, !options.migrateOnly).catch(
    (error: unknown) => {
      db.close();
      throw error;
    },
  );
  // So no record stays "in progress" for ever after a crash or a kill.
  const interrupted = options.migrateOnly ? [] : await core.calls.closeInterrupted(now());
  if (interrupted.length > 0)
    logger.warn(
      { calls: interrupted.length },
      'closed the records of calls interrupted by the last stop',
    );
  return {
    db,
    ...core,
    interrupted,
    async close() {
      // The last flow events' inserts land first: their journal rows are deleted as they commit.
      try {
        await core.closeCore();
      } finally {
        db.close();
      }
    },
  };
}

async function coreStores(
  config: Config,
  db: SqliteDatabase,
  logger: Logger,
  /** Not for `migrate`: the journal may be a running gateway's. */
  moveJournal: boolean,
): Promise<{
  calls: CallStore;
  sessions: SessionStore;
  messages: MessageStore;
  agents: AgentStore;
  flowEvents: FlowEventStore;
  kind: 'sqlite' | 'postgres';
  sharedMoney: PgCharges | undefined;
  pool: PgPool | undefined;
  shared: SharedCallRecords | undefined;
  closeCore: () => Promise<void>;
}> {
  const settings = config.storage.postgres;
  if (config.storage.kind === 'sqlite' || settings === undefined) {
    return {
      calls: new SqliteCallStore(db),
      sessions: new SqliteSessionStore(db),
      messages: new SqliteMessageStore(db),
      agents: new SqliteAgentStore(db),
      flowEvents: new SqliteFlowEventStore(db),
      kind: 'sqlite',
      sharedMoney: undefined,
      pool: undefined,
      shared: undefined,
      closeCore: () => Promise.resolve(),
    };
  }
  const pool = createPgPool(settings);
  try {
    const { applied } = await migratePostgres(pool, [
      { name: 'ledger', postgres: LEDGER_PG_MIGRATIONS },
      { name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS },
      { name: 'voicemail', postgres: VOICEMAIL_PG_MIGRATIONS },
      { name: 'flows', postgres: FLOW_PG_MIGRATIONS },
      { name: 'gated', postgres: GATED_PG_MIGRATIONS },
      { name: 'callbacks', postgres: CALLBACKS_PG_MIGRATIONS },
    ]);
    logger.info({ applied }, 'PostgreSQL schema up to date');
  } catch (error) {
    await pool.end();
    // A server that is down or refuses the role is the settings' problem to the operator:
    // one clear line at start-up (main.ts prints invalid_config's detail), not a driver stack.
    const where = settings.url
      ? redactPassword(settings.url)
      : `${settings.host ?? 'localhost'}:${settings.port ?? 5432}/${settings.database ?? ''}`;
    throw new ParleyError(
      'invalid_config',
      `\n  - storage.postgres: cannot use the database at ${where}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  // One queue for a call's record and its messages: a message never lands before its call.
  const queue = new KeyedQueue();
  const sessionQueue = new KeyedQueue();
  const owner = config.shared.instanceId ?? config.gatewayId;
  const calls = new PgCallStore(pool, owner, queue);
  // Each flow event on disk (the SQLite journal) before PostgreSQL has it; what the last stop
  // left there goes to PostgreSQL before this gateway serves (its order kept, never doubled).
  // With PostgreSQL away the gateway serves anyway: the rest moves at the next start.
  if (moveJournal)
    await moveFlowEventJournal(db, pool, logger).then(
      (moved) =>
        moved > 0 && logger.info({ moved }, 'flow events moved from the journal to PostgreSQL'),
      (err: unknown) =>
        logger.error({ err }, 'flow events left in the journal: moved at next start'),
    );
  const flowEvents = new PgFlowEventStore(pool, logger, { journal: new FlowEventJournal(db) });
  // What PostgreSQL refused past the store's retries while this gateway runs: moved within a minute.
  const mover = moveJournal
    ? new JournalMover(
        {
          name: 'flow events',
          newest: () => newestFlowEventJournalRow(db),
          move: (upTo) => moveFlowEventJournal(db, pool, logger, upTo),
        },
        logger,
      )
    : undefined;
  return {
    calls,
    shared: calls,
    sessions: new PgSessionStore(pool, sessionQueue),
    messages: new PgMessageStore(pool, queue),
    agents: new PgAgentStore(pool),
    flowEvents,
    kind: 'postgres',
    sharedMoney: new PgCharges(pool, config.marketplace.currency),
    pool,
    // The writes still queued (the last calls' final records, their flows' last events)
    // land before the pool closes.
    closeCore: async () => {
      await mover?.close();
      await Promise.all([queue.idle(), sessionQueue.idle(), flowEvents.idle()]);
      await pool.end();
    },
  };
}

/** The URL with its password, if any, replaced: it goes to the operator's terminal and logs. */
function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}
