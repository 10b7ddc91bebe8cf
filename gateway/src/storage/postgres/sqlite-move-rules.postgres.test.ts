/**
 * The move's rules beyond a plain copy, on a real PostgreSQL, with rows
 * written straight into a SQLite file: the wrong-PIN counts move (a lockout
 * holds, PostgreSQL's own count kept when stricter, the file's merged when
 * stricter); the number leases still running move, so a pool a gateway of
 * the cluster already started does not hand the number out again; a module
 * whose rows PostgreSQL holds different is refused naming table, key
 * columns, count and first keys, in the detail and the JSON, nothing moved.
 */
import { describe, expect, it } from 'vitest';
import { GATED_PG_MIGRATIONS, GATED_SCHEMA, gatedMoveTables } from '../../gated/index.js';
import { PgPinAttemptStore } from '../../gated/store/postgres/pg-records.js';
import { LEDGER_PG_MIGRATIONS } from '../../ledger/index.js';
import {
  MARKETPLACE_PG_MIGRATIONS,
  MARKETPLACE_SCHEMA,
  marketplaceMoveTables,
} from '../../marketplace/index.js';
import { PgNumberLeases } from '../../marketplace/postgres/pg-number-leases.js';
import { openDatabase, type SqliteDatabase } from '../index.js';
import { KEYS_SHOWN, StoreMoveConflict } from './move-conflict.js';
import type { PgPool } from './pg-database.js';
import { moveFile, refuseUnmoved, type MovedTable } from './sqlite-move.js';
import { useTestPostgres } from './test-postgres.js';

const pg = useTestPostgres('parley_move_rules');
const OWNER = 'gw-a';
const HOUR = 3_600_000;

const migrated = () =>
  pg.migrated([
    { name: 'ledger', postgres: LEDGER_PG_MIGRATIONS },
    { name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS },
    { name: 'gated', postgres: GATED_PG_MIGRATIONS },
  ]);

async function move(
  db: SqliteDatabase,
  pool: PgPool,
  module: string,
  tables: readonly MovedTable[],
): Promise<string[]> {
  const lines: string[] = [];
  await moveFile(db, pool, OWNER, [[module, tables]], (l) => lines.push(l));
  return lines;
}

const unmark = async (db: SqliteDatabase, pool: PgPool) => {
  db.exec('DELETE FROM store_moves; DELETE FROM store_move_tables');
  await pool.query('DELETE FROM store_moves');
};

describe('the move of the wrong-PIN counts', () => {
  it('moves a lockout and the failures towards one; where PostgreSQL counts too, the stricter holds', async () => {
    const pool = await migrated();
    const now = Date.now();
    const db = openDatabase(':memory:', [GATED_SCHEMA]);
    db.exec(`
      INSERT INTO gated_pin_attempts VALUES ('device:acme/tab-1', 3, ${now - 1000}, ${now + 15 * 60_000});
      INSERT INTO gated_pin_attempts VALUES ('resident:acme/r-1', 2, ${now - 2000}, NULL);
      INSERT INTO gated_pin_attempts VALUES ('account:acme/a-1', 2, ${now - 5000}, NULL);
    `);
    // The cluster counted two of them too: more for r-1 (kept), fewer for a-1 (raised).
    await pool.query(
      `INSERT INTO gated_pin_attempts VALUES ('resident:acme/r-1', 4, $1, NULL),
         ('account:acme/a-1', 1, $2, NULL)`,
      [now - 500, now - 9000],
    );
    const first = await move(db, pool, 'gated', gatedMoveTables(OWNER));
    expect(first).toContain(
      "gated: gated_pin_attempts: 1 copied, 1 already there, 1 merged with PostgreSQL's",
    );
    const pins = new PgPinAttemptStore(pool);
    expect(await pins.get('device:acme/tab-1')).toMatchObject({
      failures: 3,
      lockedUntil: now + 15 * 60_000,
    });
    expect(await pins.get('resident:acme/r-1')).toMatchObject({ failures: 4, lockedUntil: null });
    expect(await pins.get('account:acme/a-1')).toMatchObject({
      failures: 2,
      lastFailureAt: now - 5000,
    });
    // Moved again with the records lost: everything already as strict.
    await unmark(db, pool);
    const again = await move(db, pool, 'gated', gatedMoveTables(OWNER));
    expect(again).toContain('gated: gated_pin_attempts: 0 copied, 3 already there');
    db.close();
  });

  it('a lockout that has ended on one side counts for nothing there: the other side’s count is kept, not a fresh budget', async () => {
    const pool = await migrated();
    const now = Date.now();
    const db = openDatabase(':memory:', [GATED_SCHEMA]);
    db.exec(`
      INSERT INTO gated_pin_attempts VALUES ('device:acme/tab-1', 4, ${now - 60_000}, NULL);
      INSERT INTO gated_pin_attempts VALUES ('device:acme/tab-2', 5, ${now - 3_600_000}, ${now - 60_000});
    `);
    // tab-1: PostgreSQL's lockout ended (the guard starts again); tab-2: the file's did.
    await pool.query(
      `INSERT INTO gated_pin_attempts VALUES ('device:acme/tab-1', 5, $1, $2),
         ('device:acme/tab-2', 3, $3, NULL)`,
      [now - 3_600_000, now - 60_000, now - 30_000],
    );
    await move(db, pool, 'gated', gatedMoveTables(OWNER, now));
    const pins = new PgPinAttemptStore(pool);
    expect(await pins.get('device:acme/tab-1')).toMatchObject({ failures: 4, lockedUntil: null });
    expect(await pins.get('device:acme/tab-2')).toMatchObject({ failures: 3, lockedUntil: null });
    db.close();
  });

  it('a file a move of an earlier version marked (the counts not read then) still starts; its next move takes them', async () => {
    const pool = await migrated();
    const db = openDatabase(':memory:', [GATED_SCHEMA]);
    await move(db, pool, 'gated', gatedMoveTables(OWNER));
    // That version's mark: no line for the counts; the file holds some.
    db.exec(`DELETE FROM store_move_tables WHERE tbl = 'gated_pin_attempts';
      INSERT INTO gated_pin_attempts VALUES ('device:acme/tab-1', 1, 5, NULL)`);
    // The start-up check reads the tables its mark names: the counts are not looked at.
    expect(() => refuseUnmoved(db, 'gated', {}, 'lost')).not.toThrow();
    const again = await move(db, pool, 'gated', gatedMoveTables(OWNER));
    expect(again).toContainEqual(
      expect.stringMatching(
        /^gated: rows written since its move \(gated_pin_attempts: 1 rows, 0 moved\)/,
      ),
    );
    expect(again).toContain('gated: gated_pin_attempts: 1 copied, 0 already there');
    db.close();
  });

  it('that next move takes the counts alone: rows the cluster changed since the first move are not refused', async () => {
    const pool = await migrated();
    const db = openDatabase(':memory:', [GATED_SCHEMA]);
    db.exec(`INSERT INTO gated_charges VALUES ('call-1', 1, 'acme', 'a-1', 25, 975, 5)`);
    await move(db, pool, 'gated', gatedMoveTables(OWNER));
    // The cluster changed the row since (a correction); the earlier version's mark, counts in the file.
    await pool.query(
      `UPDATE gated_charges SET amount = 20, balance_after = 980 WHERE call_id = 'call-1'`,
    );
    db.exec(`DELETE FROM store_move_tables WHERE tbl = 'gated_pin_attempts';
      INSERT INTO gated_pin_attempts VALUES ('device:acme/tab-1', 1, 5, NULL)`);
    const again = await move(db, pool, 'gated', gatedMoveTables(OWNER));
    expect(again).toContainEqual(expect.stringMatching(/^gated: moving gated_pin_attempts alone/));
    expect(again).toContain('gated: gated_pin_attempts: 1 copied, 0 already there');
    const charge = await pool.query(`SELECT amount FROM gated_charges WHERE call_id = 'call-1'`);
    expect(charge.rows).toEqual([{ amount: 20 }]);
    // Marked: a third run moves nothing.
    const third = await move(db, pool, 'gated', gatedMoveTables(OWNER));
    expect(third).toContainEqual(expect.stringMatching(/^gated: already moved/));
    db.close();
  });
});

describe('the move of the number leases', () => {
  it('moves a running lease over a pool a gateway of the cluster started: the number is not handed out again; an ended one need not move', async () => {
    const pool = await migrated();
    const now = Date.now();
    const [held, ended, fresh] = ['+14155550101', '+14155550102', '+14155550103'];
    // Another gateway started the tenant's pool: every number free (never leased).
    const leases = new PgNumberLeases(pool, 'acme', [held, ended, fresh], 3600);
    await leases.start();
    const db = openDatabase(':memory:', [MARKETPLACE_SCHEMA]);
    const impression = db.prepare(
      `INSERT INTO mp_impressions (id, tenant, placement_id, listing_id, advertiser_id, publisher_id,
         slot, price, bid, quality, device_id, number, number_kind, lease_start, lease_end, created_at)
       VALUES (?, 'acme', 'pl-1', 'l-1', 'adv-1', 'pub-1', 0, 300, 1000, 1, 'dev-1', ?, 'leased', ?, ?, ?)`,
    );
    impression.run('imp-1', held, now - 60_000, now + HOUR - 60_000, now - 60_000);
    impression.run('imp-0', ended, now - 3 * HOUR, now - 2 * HOUR, now - 3 * HOUR);
    const lines = await move(db, pool, 'marketplace', marketplaceMoveTables(OWNER, now));
    expect(lines).toContain(
      "marketplace: mp_number_leases: 0 copied, 0 already there, 1 merged with PostgreSQL's",
    );
    const taken = await leases.leaseMany(now, 3);
    expect(taken.map((l) => l.number).sort()).toEqual([ended, fresh]);
    // A database no gateway started the pool on gets the row itself.
    const empty = await migrated();
    db.exec('DELETE FROM store_moves; DELETE FROM store_move_tables');
    const second = await move(db, empty, 'marketplace', marketplaceMoveTables(OWNER, now));
    expect(second).toContain('marketplace: mp_number_leases: 1 copied, 0 already there');
    db.close();
  });

  it('refuses a number the cluster leased meanwhile to another impression, or holds for another tenant: one number, two callers', async () => {
    const pool = await migrated();
    const now = Date.now();
    const [taken, foreign] = ['+14155550111', '+14155550112'];
    const leases = new PgNumberLeases(pool, 'acme', [taken], 3600);
    await leases.start();
    await leases.leaseMany(now, 1); // the cluster's own impression holds it for the next hour
    await new PgNumberLeases(pool, 'globex', [foreign], 3600).start();
    const db = openDatabase(':memory:', [MARKETPLACE_SCHEMA]);
    const impression = db.prepare(
      `INSERT INTO mp_impressions (id, tenant, placement_id, listing_id, advertiser_id, publisher_id,
         slot, price, bid, quality, device_id, number, number_kind, lease_start, lease_end, created_at)
       VALUES (?, 'acme', 'pl-1', 'l-1', 'adv-1', 'pub-1', 0, 300, 1000, 1, 'dev-1', ?, 'leased', ?, ?, ?)`,
    );
    impression.run('imp-1', taken, now - 60_000, now + HOUR / 2, now - 60_000);
    impression.run('imp-2', foreign, now - 60_000, now + HOUR / 2, now - 60_000);
    const refused = await move(db, pool, 'marketplace', marketplaceMoveTables(OWNER, now)).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(StoreMoveConflict);
    expect((refused as StoreMoveConflict).toJSON().error).toMatchObject({
      module: 'marketplace',
      tables: [
        {
          table: 'mp_number_leases',
          key: ['number'],
          rows: 2,
          first: [{ number: taken }, { number: foreign }],
        },
      ],
    });
    // Nothing of the module moved (its impressions neither).
    const { rows } = await pool.query<{ n: number }>('SELECT count(*) AS n FROM mp_impressions');
    expect(rows).toEqual([{ n: 0 }]);
    db.close();
  });
});

describe('a module PostgreSQL holds different rows of', () => {
  it('is refused naming each table, its key columns, the count and the first keys; nothing of it moved', async () => {
    const pool = await migrated();
    const db = openDatabase(':memory:', [GATED_SCHEMA]);
    const resident = db.prepare(
      `INSERT INTO gated_residents (tenant, id, name, number, status, pin_hash, created_at, updated_at)
       VALUES ('acme', ?, ?, ?, 'active', NULL, 1, 1)`,
    );
    for (let i = 1; i <= 8; i += 1) resident.run(`r-${i}`, `Resident ${i}`, `10${i}`);
    db.exec(`INSERT INTO gated_accounts (tenant, id, number, name, rate_per_minute, balance, status,
      created_at, updated_at) VALUES ('acme', 'a-1', '5550001', 'Grace', 25, 1000, 'active', 1, 1)`);
    // The gateway ran on SQLite again after a move: rows changed in place there.
    for (let i = 1; i <= 7; i += 1)
      await pool.query(
        `INSERT INTO gated_residents (tenant, id, name, number, status, created_at, updated_at)
         VALUES ('acme', $1, 'Renamed', $2, 'active', 1, 2)`,
        [`r-${i}`, `10${i}`],
      );
    await pool.query(`INSERT INTO gated_accounts (tenant, id, number, name, rate_per_minute, balance,
      status, created_at, updated_at) VALUES ('acme', 'a-1', '5550001', 'Grace', 25, 700, 'active', 1, 2)`);
    const refused = await move(db, pool, 'gated', gatedMoveTables(OWNER)).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(StoreMoveConflict);
    const conflict = refused as StoreMoveConflict;
    const firstResidents = [1, 2, 3, 4, 5].map((i) => ({ tenant: 'acme', id: `r-${i}` }));
    expect(conflict.toJSON()).toEqual({
      error: {
        code: 'store_move_conflict',
        message: expect.any(String) as unknown,
        detail: conflict.detail,
        module: 'gated',
        tables: [
          { table: 'gated_residents', key: ['tenant', 'id'], rows: 7, first: firstResidents },
          {
            table: 'gated_accounts',
            key: ['tenant', 'id'],
            rows: 1,
            first: [{ tenant: 'acme', id: 'a-1' }],
          },
        ],
      },
    });
    expect(firstResidents).toHaveLength(KEYS_SHOWN);
    expect(conflict.detail).toContain('gated: PostgreSQL holds 8 rows different');
    expect(conflict.detail).toContain(
      '\n  gated_residents (tenant, id): 7 differing: tenant=acme id=r-1; tenant=acme id=r-2; tenant=acme id=r-3; tenant=acme id=r-4; tenant=acme id=r-5; and 2 more',
    );
    expect(conflict.detail).toContain(
      '\n  gated_accounts (tenant, id): 1 differing: tenant=acme id=a-1',
    );
    // Rolled back: the eighth resident is not there, the balance is PostgreSQL's.
    expect((await pool.query(`SELECT 1 FROM gated_residents WHERE id = 'r-8'`)).rowCount).toBe(0);
    const balance = await pool.query('SELECT balance FROM gated_accounts');
    expect(balance.rows).toEqual([{ balance: 700 }]);
    expect((await pool.query('SELECT 1 FROM store_moves')).rowCount).toBe(0);
    db.close();
  });
});
