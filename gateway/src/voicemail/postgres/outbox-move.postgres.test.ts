/**
 * A gateway already on PostgreSQL whose SQLite file still holds webhook
 * events (from before the outbox was shared): moved into the shared outbox in
 * their order, with their attempts and retry times, then gone from SQLite; a
 * move done twice (a start that stopped before the delete) keeps one of each.
 */
import { startPostgres, type Postgres } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../observability/index.js';
import { openDatabase } from '../../storage/index.js';
import { createPgPool, migratePostgres, type PgPool } from '../../storage/postgres/index.js';
import { VOICEMAIL_SCHEMA } from '../store.js';
import { moveSqliteOutbox } from './outbox-move.js';
import { PgWebhookOutbox } from './pg-outbox.js';
import { VOICEMAIL_PG_MIGRATIONS } from './pg-schema.js';

let pg: Postgres;
let pool: PgPool;
beforeAll(async () => {
  pg = await startPostgres();
  pool = createPgPool({ url: await pg.createDatabase('vm_outbox_move') });
  await migratePostgres(pool, [{ name: 'voicemail', postgres: VOICEMAIL_PG_MIGRATIONS }]);
}, 60_000);
afterAll(async () => {
  await pool?.end();
  await pg?.stop();
});

describe('moving the SQLite webhook outbox into PostgreSQL', () => {
  it('moves every row once, in order, and empties the SQLite table', async () => {
    const acme = { tenant: 'acme', url: 'https://acme.test/hooks' };
    const globex = { tenant: 'globex', url: 'https://globex.test/hooks' };
    // Already shared: an event another gateway raised.
    await new PgWebhookOutbox(pool, createLogger('silent')).add({
      ...acme,
      delivery: 'shared-1',
      body: '{"n":0}',
      at: 5,
    });
    const db = openDatabase(':memory:', [VOICEMAIL_SCHEMA]);
    const insert = db.prepare(
      `INSERT INTO vm_webhook_outbox (tenant, url, delivery, body, attempts, next_at, last_error, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const rows = () => {
      // A row from before the delivery column, failing since; then two newer ones.
      insert.run(acme.tenant, acme.url, null, '{"n":1}', 3, 9000, 'HTTP 503', 1);
      insert.run(globex.tenant, globex.url, 'g-2', '{"n":2}', 0, 2, null, 2);
      insert.run(acme.tenant, acme.url, 'a-3', '{"n":3}', 0, 3, null, 3);
    };
    rows();
    const firstId = (
      db.prepare('SELECT min(id) AS id FROM vm_webhook_outbox').get() as {
        id: number;
      }
    ).id;
    expect(await moveSqliteOutbox(db, pool, 'gw-a')).toBe(3);
    expect(db.prepare('SELECT count(*) AS n FROM vm_webhook_outbox').get()).toEqual({ n: 0 });
    // Moved again (the delete had not happened): no second copy.
    rows();
    db.prepare('UPDATE vm_webhook_outbox SET delivery = NULL WHERE body = ?').run('{"n":1}');
    db.prepare('UPDATE vm_webhook_outbox SET id = ? WHERE body = ?').run(firstId, '{"n":1}');
    expect(await moveSqliteOutbox(db, pool, 'gw-a')).toBe(3);
    expect(await moveSqliteOutbox(db, pool, 'gw-a')).toBe(0);
    const { rows: moved } = await pool.query<Record<string, unknown>>(
      `SELECT tenant, delivery, body, attempts, next_at, last_error, created_at
       FROM vm_webhook_outbox ORDER BY id`,
    );
    expect(moved).toEqual([
      {
        tenant: 'acme',
        delivery: 'shared-1',
        body: '{"n":0}',
        attempts: 0,
        next_at: 5,
        last_error: null,
        created_at: 5,
      },
      {
        tenant: 'acme',
        delivery: `gw-a:${firstId}`,
        body: '{"n":1}',
        attempts: 3,
        next_at: 9000,
        last_error: 'HTTP 503',
        created_at: 1,
      },
      {
        tenant: 'globex',
        delivery: 'g-2',
        body: '{"n":2}',
        attempts: 0,
        next_at: 2,
        last_error: null,
        created_at: 2,
      },
      {
        tenant: 'acme',
        delivery: 'a-3',
        body: '{"n":3}',
        attempts: 0,
        next_at: 3,
        last_error: null,
        created_at: 3,
      },
    ]);
  });

  it('drops a row PostgreSQL can never store, logged, and moves the ones around it', async () => {
    const db = openDatabase(':memory:', [VOICEMAIL_SCHEMA]);
    const insert = db.prepare(
      `INSERT INTO vm_webhook_outbox (tenant, url, delivery, body, attempts, next_at, last_error, created_at)
       VALUES ('acme', 'https://acme.test/hooks', ?, ?, 0, 1, NULL, 1)`,
    );
    insert.run('p-1', '{"n":1}');
    // A NUL in a text column: refused for good (not a connection error), at every start.
    insert.run('p-2', '{"n":"bad\u0000"}');
    insert.run('p-3', '{"n":3}');
    const lines: string[] = [];
    const logger = createLogger('error', { write: (line: string) => void lines.push(line) });
    expect(await moveSqliteOutbox(db, pool, 'gw-a', logger)).toBe(3);
    expect(db.prepare('SELECT count(*) AS n FROM vm_webhook_outbox').get()).toEqual({ n: 0 });
    const { rows } = await pool.query<{ delivery: string }>(
      "SELECT delivery FROM vm_webhook_outbox WHERE delivery LIKE 'p-%' ORDER BY id",
    );
    expect(rows.map((r) => r.delivery)).toEqual(['p-1', 'p-3']);
    expect(lines.join('')).toContain('voicemail webhook event refused by PostgreSQL: dropped');
  });
});
