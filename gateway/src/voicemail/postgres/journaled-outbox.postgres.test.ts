/**
 * The shared webhook outbox behind this gateway's SQLite journal: an event is
 * on disk before `add` returns, gone from the journal once PostgreSQL has it;
 * one PostgreSQL did not have when the gateway stopped (here: the database
 * unreachable, so the insert never commits) is still in the journal, and the
 * next start's move puts it in the shared outbox, in its lane's order, once.
 * Without the journal that event was lost (nothing in SQLite to move). While
 * the gateway runs, what PostgreSQL refused is moved a mover's tick later.
 */
import { freePort } from '@parley/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../observability/index.js';
import { openDatabase, type SqliteDatabase } from '../../storage/index.js';
import { createPgPool, JournalMover, type PgPool } from '../../storage/postgres/index.js';
import { useTestPostgres } from '../../storage/postgres/test-postgres.js';
import { VOICEMAIL_SCHEMA } from '../store.js';
import { JournaledOutbox } from './journaled-outbox.js';
import { moveSqliteOutbox, newestOutboxRow } from './outbox-move.js';
import { PgWebhookOutbox } from './pg-outbox.js';
import { VOICEMAIL_PG_MIGRATIONS } from './pg-schema.js';

const log = createLogger('silent');
const acme = { tenant: 'acme', url: 'https://acme.test/hooks' };

const pg = useTestPostgres('vm_outbox_journal');
let pool: PgPool;
beforeAll(async () => {
  pool = await pg.migrated([{ name: 'voicemail', postgres: VOICEMAIL_PG_MIGRATIONS }]);
});

const journal = (db: SqliteDatabase) =>
  db.prepare('SELECT delivery FROM vm_webhook_outbox ORDER BY id').all() as { delivery: string }[];
const shared = async () =>
  (
    await pool.query<{ delivery: string }>(
      'SELECT delivery FROM vm_webhook_outbox WHERE tenant = $1 ORDER BY id',
      [acme.tenant],
    )
  ).rows.map((r) => r.delivery);

describe('the journalled shared outbox', () => {
  it('keeps an event PostgreSQL did not have at a stop, and the next start sends it, once', async () => {
    const db = openDatabase(':memory:', [VOICEMAIL_SCHEMA]);
    // The gateway before its stop: PostgreSQL cannot be reached (nothing listens on the port).
    const away = createPgPool({ url: `postgresql://parley@127.0.0.1:${await freePort('tcp')}/x` });
    const dying = new JournaledOutbox(db, new PgWebhookOutbox(away, log), log);
    const lost = dying.add({ ...acme, delivery: 'd-1', body: '{"n":1}', at: 1 });
    // On disk before `add` returned.
    expect(journal(db)).toEqual([{ delivery: 'd-1' }]);
    expect(await shared()).toEqual([]);

    // The next start (the same SQLite file): the journal goes to the shared outbox first.
    expect(await moveSqliteOutbox(db, pool, 'gw-a')).toBe(1);
    expect(journal(db)).toEqual([]);
    const live = new JournaledOutbox(db, new PgWebhookOutbox(pool, log), log);
    await live.add({ ...acme, delivery: 'd-2', body: '{"n":2}', at: 2 });
    // PostgreSQL has it: gone from the journal.
    expect(journal(db)).toEqual([]);
    expect(await shared()).toEqual(['d-1', 'd-2']);
    // A move done again (a stop after PostgreSQL committed, before the journal's delete) adds no copy.
    db.prepare(
      `INSERT INTO vm_webhook_outbox (tenant, url, delivery, body, next_at, created_at)
       VALUES (?, ?, 'd-2', '{"n":2}', 2, 2)`,
    ).run(acme.tenant, acme.url);
    expect(await moveSqliteOutbox(db, pool, 'gw-a')).toBe(1);
    expect(await shared()).toEqual(['d-1', 'd-2']);

    await live.close();
    await dying.close();
    await expect(lost).rejects.toThrow();
    await away.end();
  }, 30_000);

  it('moves, while the gateway runs, an event PostgreSQL refused (a tick later)', async () => {
    const db = openDatabase(':memory:', [VOICEMAIL_SCHEMA]);
    const outbox = new JournaledOutbox(db, new PgWebhookOutbox(pool, log), log);
    // The timer's ticks never come within the test: each tick is the test's.
    const mover = new JournalMover(
      {
        name: 'voicemail webhook events',
        newest: () => newestOutboxRow(db),
        move: (upTo) => moveSqliteOutbox(db, pool, 'gw-a', log, upTo),
      },
      log,
      3_600_000,
    );
    const refused = async (delivery: string) => {
      await pool.query('ALTER TABLE vm_webhook_outbox RENAME TO vm_webhook_outbox_away');
      await expect(outbox.add({ ...acme, delivery, body: '{}', at: 3 })).rejects.toThrow();
      await pool.query('ALTER TABLE vm_webhook_outbox_away RENAME TO vm_webhook_outbox');
    };
    const before = await shared();
    await refused('d-3');
    expect(journal(db)).toEqual([{ delivery: 'd-3' }]);
    // The first tick only marks it (its own insert could still be in flight).
    expect(await mover.tick()).toBe(0);
    await refused('d-4');
    expect(await mover.tick()).toBe(1);
    expect(journal(db)).toEqual([{ delivery: 'd-4' }]);
    expect(await mover.tick()).toBe(1);
    expect(journal(db)).toEqual([]);
    expect(await shared()).toEqual([...before, 'd-3', 'd-4']);
    await mover.close();
    await outbox.close();
  }, 30_000);
});
