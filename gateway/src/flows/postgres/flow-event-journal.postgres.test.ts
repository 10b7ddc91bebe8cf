/**
 * The flow events' SQLite journal in front of PostgreSQL, on a real
 * PostgreSQL (the testkit's): an event is in the journal when `event`
 * returns and gone once PostgreSQL has it; what PostgreSQL did not have when
 * the gateway stopped (the database unreachable, or the gateway killed
 * before the insert) is moved at the next start, in order, and a start
 * after a stop that fell between PostgreSQL's commit and the journal's
 * delete stores nothing twice. The second test goes through the gateway's
 * own start (`openStores` on a SQLite file): without the journal its events
 * were lost. A running gateway's mover moves what PostgreSQL refused past
 * the retries, a tick after it was journalled.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@parley/shared/tokens';
import { freePort } from '@parley/testkit';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import { createLogger } from '../../observability/index.js';
import { openDatabase, type SqliteDatabase } from '../../storage/index.js';
import { createPgPool, JournalMover, type PgPool } from '../../storage/postgres/index.js';
import { useTestPostgres } from '../../storage/postgres/test-postgres.js';
import { openStores } from '../../wiring/stores.js';
import { sayResult } from '../flow-event-store-contract.js';
import { FLOW_SCHEMA } from '../flow-event-store.js';
import {
  FlowEventJournal,
  moveFlowEventJournal,
  newestFlowEventJournalRow,
} from './flow-event-journal.js';
import { PgFlowEventStore } from './pg-flow-event-store.js';
import { FLOW_PG_MIGRATIONS } from './pg-schema.js';

const pg = useTestPostgres('flow_journal');
const log = createLogger('silent');

const journal = (db: SqliteDatabase) =>
  db.prepare('SELECT call_id, seq FROM flow_events_journal ORDER BY id').all();
const stored = async (pool: PgPool) =>
  (
    await pool.query<{ call_id: string; seq: number }>(
      'SELECT call_id, seq FROM flow_events ORDER BY call_id, seq',
    )
  ).rows;

describe('the flow events journal', () => {
  it('keeps what PostgreSQL did not have at a stop; the next start moves it in order, once', async () => {
    const pool = await pg.migrated([{ name: 'flows', postgres: FLOW_PG_MIGRATIONS }]);
    const db = openDatabase(':memory:', [FLOW_SCHEMA]);
    // The gateway before its stop: PostgreSQL cannot be reached (nothing listens on the port).
    const away = createPgPool({ url: `postgresql://parley@127.0.0.1:${await freePort('tcp')}/x` });
    const dying = new PgFlowEventStore(away, log, {
      retryMs: [],
      journal: new FlowEventJournal(db),
    });
    const raised = [
      sayResult('call-a', 1),
      sayResult('call-b', 1),
      sayResult('call-a', 2),
      sayResult('call-a', 3),
    ];
    for (const e of raised) dying.event(e);
    // On disk when `event` returned, in the order raised.
    const inJournal = raised.map((e) => ({ call_id: e.callId, seq: e.seq }));
    expect(journal(db)).toEqual(inJournal);
    await dying.idle();
    await away.end();
    expect(journal(db)).toEqual(inJournal);
    expect(await stored(pool)).toEqual([]);

    // The next start (the same SQLite file): the journal goes to PostgreSQL first.
    expect(await moveFlowEventJournal(db, pool)).toBe(4);
    expect(journal(db)).toEqual([]);
    const live = new PgFlowEventStore(pool, log, { journal: new FlowEventJournal(db) });
    live.event(sayResult('call-a', 4));
    expect(journal(db)).toEqual([{ call_id: 'call-a', seq: 4 }]);
    await live.idle();
    // PostgreSQL has it: gone from the journal.
    expect(journal(db)).toEqual([]);
    expect(await live.list('call-a')).toEqual([1, 2, 3, 4].map((n) => sayResult('call-a', n)));
    expect(await live.list('call-b')).toEqual([sayResult('call-b', 1)]);

    // A stop after PostgreSQL committed, before the journal's delete: moved again, kept once.
    new FlowEventJournal(db).write(sayResult('call-a', 4));
    expect(await moveFlowEventJournal(db, pool)).toBe(1);
    expect(await moveFlowEventJournal(db, pool)).toBe(0);
    expect(await stored(pool)).toHaveLength(5);
    db.close();
  }, 30_000);

  it('drops an event PostgreSQL can never store, logged, and moves the ones after it', async () => {
    const pool = await pg.migrated([{ name: 'flows', postgres: FLOW_PG_MIGRATIONS }]);
    const db = openDatabase(':memory:', [FLOW_SCHEMA]);
    const kept = new FlowEventJournal(db);
    // A NUL in a text column: refused for good (not a connection error), at every start.
    const poisoned = { ...sayResult('call-c', 2), flow: 'bad\u0000name' };
    for (const e of [sayResult('call-c', 1), poisoned, sayResult('call-c', 3)]) kept.write(e);
    const lines: unknown[] = [];
    const logger = createLogger('error', { write: (line: string) => void lines.push(line) });
    expect(await moveFlowEventJournal(db, pool, logger)).toBe(3);
    expect(journal(db)).toEqual([]);
    expect(await stored(pool)).toEqual([
      { call_id: 'call-c', seq: 1 },
      { call_id: 'call-c', seq: 3 },
    ]);
    expect(lines.join('')).toContain('flow event refused by PostgreSQL: dropped');
    db.close();
  }, 30_000);

  it('moves, while the gateway runs, what PostgreSQL refused past the retries (a tick later)', async () => {
    const pool = await pg.migrated([{ name: 'flows', postgres: FLOW_PG_MIGRATIONS }]);
    const db = openDatabase(':memory:', [FLOW_SCHEMA]);
    const store = new PgFlowEventStore(pool, log, {
      retryMs: [],
      journal: new FlowEventJournal(db),
    });
    // The timer's ticks never come within the test: each tick is the test's.
    const mover = new JournalMover(
      {
        name: 'flow events',
        newest: () => newestFlowEventJournalRow(db),
        move: (upTo) => moveFlowEventJournal(db, pool, log, upTo),
      },
      log,
      3_600_000,
    );
    const refused = async (seq: number) => {
      // Not a transient failure: the store does not try again, the journal keeps it.
      await pool.query('ALTER TABLE flow_events RENAME TO flow_events_away');
      store.event(sayResult('call-m', seq));
      await store.idle();
      await pool.query('ALTER TABLE flow_events_away RENAME TO flow_events');
    };
    await refused(1);
    expect(journal(db)).toEqual([{ call_id: 'call-m', seq: 1 }]);
    // The first tick only marks it (its own insert could still be in flight).
    expect(await mover.tick()).toBe(0);
    await refused(2);
    // The next moves what was there at the first, not what came after.
    expect(await mover.tick()).toBe(1);
    expect(journal(db)).toEqual([{ call_id: 'call-m', seq: 2 }]);
    expect(await store.list('call-m')).toEqual([sayResult('call-m', 1)]);
    expect(await mover.tick()).toBe(1);
    expect(journal(db)).toEqual([]);
    expect(await store.list('call-m')).toEqual([1, 2].map((n) => sayResult('call-m', n)));
    await mover.close();
    db.close();
  }, 30_000);

  it("moves a stopped gateway's events at its next start, and a second start adds none", async () => {
    const url = await pg.database();
    const sqlitePath = join(mkdtempSync(join(tmpdir(), 'parley-flow-journal-')), 'parley.sqlite');
    const input = {
      gatewayId: 'gw',
      tokens: { encryptionKeys: [(await generateEncryptionKeyPair()).privateJwk] },
      tenants: { acme: { jwks: [(await generateSigningKeyPair()).publicJwk] } },
      storage: { kind: 'postgres', path: sqlitePath, postgres: { url } },
      shared: { instanceId: 'gw-a' },
    };
    const start = () => openStores(loadConfig({ input }), log, Date.now);
    const admin = pg.pool(url);

    const first = await start();
    first.flowEvents.event(sayResult('call-1', 1));
    await first.flowEvents.idle();
    // PostgreSQL refuses the next inserts (not a transient failure: not tried again)...
    await admin.query('ALTER TABLE flow_events RENAME TO flow_events_away');
    first.flowEvents.event(sayResult('call-1', 2));
    first.flowEvents.event(sayResult('call-2', 1));
    await first.flowEvents.idle();
    await admin.query('ALTER TABLE flow_events_away RENAME TO flow_events');
    // ...and one more is committed after the gateway is killed: its journal row stays.
    first.flowEvents.event(sayResult('call-1', 3));
    first.db.close();
    await first.flowEvents.idle();
    await first.pool?.end();
    expect(await stored(admin)).toEqual([
      { call_id: 'call-1', seq: 1 },
      { call_id: 'call-1', seq: 3 },
    ]);

    const second = await start();
    const all = [
      { call_id: 'call-1', seq: 1 },
      { call_id: 'call-1', seq: 2 },
      { call_id: 'call-1', seq: 3 },
      { call_id: 'call-2', seq: 1 },
    ];
    expect(await stored(admin)).toEqual(all);
    expect(journal(second.db)).toEqual([]);
    expect(await second.flowEvents.list('call-1')).toEqual(
      [1, 2, 3].map((n) => sayResult('call-1', n)),
    );
    await second.close();

    const third = await start();
    expect(await stored(admin)).toEqual(all);
    await third.close();
  }, 30_000);
});
