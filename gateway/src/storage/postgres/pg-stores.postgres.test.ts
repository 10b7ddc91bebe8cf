/**
 * The PostgreSQL stores against a real server (Debian `postgresql`, started
 * by the testkit), with the SQLite stores run through the same cases.
 */
import { startPostgres, type Postgres } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../database.js';
import { SqliteCallStore } from '../call-store.js';
import { SqliteMessageStore } from '../message-store.js';
import { SqliteSessionStore } from '../session-store.js';
import type { CallStore } from '../call-store.js';
import type { MessageStore } from '../message-store.js';
import type { SessionStore } from '../session-store.js';
import { testCallRecord } from '../test-records.js';
import { createPgPool, migratePostgres, type PgPool } from './pg-database.js';
import { KeyedQueue } from './keyed-queue.js';
import { PG_MIGRATIONS } from './pg-migrations.js';
import { PgCallStore, PgMessageStore, PgSessionStore } from './pg-stores.js';

let pg: Postgres;
const pools: PgPool[] = [];
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await pg?.stop();
});

interface Stores {
  calls: CallStore;
  messages: MessageStore;
  sessions: SessionStore;
}

let databases = 0;
const kinds: [string, () => Promise<Stores>][] = [
  [
    'sqlite',
    async () => {
      const db = openDatabase(':memory:');
      return {
        calls: new SqliteCallStore(db),
        messages: new SqliteMessageStore(db),
        sessions: new SqliteSessionStore(db),
      };
    },
  ],
  [
    'postgres',
    async () => {
      const pool = createPgPool({ url: await pg.createDatabase(`contract_${(databases += 1)}`) });
      pools.push(pool);
      await migratePostgres(pool);
      const queue = new KeyedQueue();
      return {
        calls: new PgCallStore(pool, 'gw-1', queue),
        messages: new PgMessageStore(pool, queue),
        sessions: new PgSessionStore(pool),
      };
    },
  ],
];

describe.each(kinds)('the stores on %s', (_kind, open) => {
  it('keeps a record written behind in order: the last write wins, messages follow their call', async () => {
    const { calls, messages } = await open();
    const record = testCallRecord('c1');
    const writes = [calls.insert(record)];
    record.state = 'answered';
    record.answeredAt = 2000;
    writes.push(calls.update(record));
    writes.push(
      messages.append('c1', {
        seq: 1,
        from: 'visitor',
        receivedAt: new Date(2500).toISOString(),
        message: { type: 'chat', id: 'm1', at: 'x', text: 'hello' },
      }),
    );
    record.state = 'ended';
    record.endedAt = 3000;
    writes.push(calls.update(record));
    // Read without waiting for the writes: the store's reads follow its writes.
    const stored = await calls.get('c1');
    expect(stored).toMatchObject({ state: 'ended', answeredAt: 2000, endedAt: 3000 });
    expect((await messages.list('c1')).map((m) => m.message.id)).toEqual(['m1']);
    await Promise.all(writes);
    expect(await calls.listRecent(10)).toHaveLength(1);
  });

  it('closes the calls left open once, and refuses a second record with the same id', async () => {
    const { calls } = await open();
    await calls.insert(testCallRecord('open', { state: 'answered', answeredAt: 10 }));
    await calls.insert(testCallRecord('done', { state: 'ended', endedAt: 10 }));
    await expect(calls.insert(testCallRecord('open'))).rejects.toThrow();
    expect((await calls.closeInterrupted(50)).map((c) => c.id)).toEqual(['open']);
    expect(await calls.closeInterrupted(60)).toEqual([]);
    expect(await calls.get('open')).toMatchObject({
      state: 'ended',
      reason: 'gateway_restart',
      endedAt: 50,
    });
  });

  it('gives a number to one session at a time and keeps live leases', async () => {
    const { sessions } = await open();
    const touch = (sessionId: string) =>
      sessions.touch({
        tenant: 'acme',
        sessionId,
        origin: 'https://a.test',
        publicClaims: {} as never,
        privateClaims: {},
        at: 1,
      });
    void touch('a');
    void sessions.assignNumber('acme', 'a', '+15550100', false, 1000);
    await touch('b');
    await sessions.assignNumber('acme', 'b', '+15550100', false, 2000);
    expect((await sessions.getByNumber('+15550100'))?.sessionId).toBe('b');
    expect((await sessions.get('acme', 'a'))?.number).toBeNull();
    expect(await sessions.liveLeases(1500)).toEqual([
      { tenant: 'acme', sessionId: 'b', number: '+15550100', expiresAt: 2000 },
    ]);
  });

  it('gives a number to one session when many ask for it at once (no unique-index error)', async () => {
    const { sessions } = await open();
    const ids = Array.from({ length: 20 }, (_, i) => `s${i}`);
    await Promise.all(
      ids.map((sessionId) =>
        sessions.touch({
          tenant: 'acme',
          sessionId,
          origin: 'https://a.test',
          publicClaims: {} as never,
          privateClaims: {},
          at: 1,
        }),
      ),
    );
    await Promise.all(
      ids.map((sessionId) => sessions.assignNumber('acme', sessionId, '+15550199', false, 5000)),
    );
    const holders = await sessions.liveLeases(0);
    expect(holders.filter((l) => l.number === '+15550199')).toHaveLength(1);
  });
});

describe('PostgreSQL migrations', () => {
  it('run once: a second run applies nothing and keeps the rows', async () => {
    const pool = createPgPool({ url: await pg.createDatabase('migrations_twice') });
    pools.push(pool);
    expect((await migratePostgres(pool)).applied).toBeGreaterThan(0);
    await new PgCallStore(pool, 'gw').insert(testCallRecord('kept'));
    expect(await migratePostgres(pool)).toEqual({ applied: 0 });
    expect((await new PgCallStore(pool, 'gw').get('kept'))?.id).toBe('kept');
  });

  it("make the move's record (store_moves) before any move, and keep the one a move of an earlier version made", async () => {
    const fresh = createPgPool({ url: await pg.createDatabase('migrations_store_moves') });
    pools.push(fresh);
    await migratePostgres(fresh);
    const made = await fresh.query(`SELECT to_regclass('store_moves') IS NOT NULL AS made`);
    expect(made.rows).toEqual([{ made: true }]);
    // A database migrated to core version 1, where an earlier move made the table itself.
    const old = createPgPool({ url: await pg.createDatabase('migrations_store_moves_old') });
    pools.push(old);
    await old.query(PG_MIGRATIONS[0] ?? '');
    await old.query(
      `CREATE TABLE schema_migrations (module TEXT PRIMARY KEY, version INTEGER NOT NULL);
       INSERT INTO schema_migrations VALUES ('core', 1);
       CREATE TABLE IF NOT EXISTS store_moves (
         file_id TEXT NOT NULL, module TEXT NOT NULL, moved_at BIGINT NOT NULL,
         tables JSONB NOT NULL, PRIMARY KEY (file_id, module));
       INSERT INTO store_moves VALUES ('gw/1', 'gated', 5, '{}')`,
    );
    expect((await migratePostgres(old)).applied).toBe(PG_MIGRATIONS.length - 1);
    const kept = await old.query('SELECT file_id, module FROM store_moves');
    expect(kept.rows).toEqual([{ file_id: 'gw/1', module: 'gated' }]);
    const version = await old.query(`SELECT version FROM schema_migrations WHERE module = 'core'`);
    expect(version.rows).toEqual([{ version: PG_MIGRATIONS.length }]);
  });
});
