/**
 * The move's module pieces on a real PostgreSQL, with rows written straight
 * into a SQLite file (what no short API path makes: a charged callback, a
 * chat message, a voicemail, a flow event): the ledger's transactions get
 * PostgreSQL's ids while another's transaction holds the file's id 1, and
 * the charged callback then names PostgreSQL's; the voicemail gets this
 * gateway; moved again unmarked, nothing copied; a different transaction
 * under a moved key refuses the ledger, rolled back.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParleyError } from '@parley/shared/errors';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  CALLBACKS_PG_MIGRATIONS,
  CALLBACKS_SCHEMA,
  callbacksMoveTables,
} from '../../callbacks/index.js';
import { PgCallbackStore } from '../../callbacks/pg-store.js';
import {
  FLOW_PG_MIGRATIONS,
  FLOW_SCHEMA,
  flowsMoveTables,
  refuseUnmovedFlows,
} from '../../flows/index.js';
import { LEDGER_PG_MIGRATIONS, LEDGER_SCHEMA, ledgerMoveTables } from '../../ledger/index.js';
import {
  VOICEMAIL_PG_MIGRATIONS,
  VOICEMAIL_SCHEMA,
  voicemailMoveTables,
} from '../../voicemail/index.js';
import { coreMoveTables, openDatabase, type SqliteDatabase } from '../index.js';
import type { PgPool } from './pg-database.js';
import { moveFile } from './sqlite-move.js';
import { useTestPostgres } from './test-postgres.js';

const pg = useTestPostgres('parley_sqlite_move');
const OWNER = 'gw-a';

function fileWithRows(path = ':memory:'): SqliteDatabase {
  const db = openDatabase(path, [LEDGER_SCHEMA, CALLBACKS_SCHEMA, VOICEMAIL_SCHEMA, FLOW_SCHEMA]);
  db.exec(`
    INSERT INTO ledger_accounts VALUES ('adv:1', 'acme', 'advertiser', 'USD', -500, 1),
                                       ('platform', 'acme', 'platform', 'USD', 500, 1),
                                       ('adv:empty', 'acme', 'advertiser', 'USD', 0, 1);
    INSERT INTO ledger_transactions (id, key, tenant, kind, memo, meta, reverses, created_at)
      VALUES (1, 'callback:cb-1', 'acme', 'charge', NULL, '{}', NULL, 10);
    INSERT INTO ledger_postings VALUES (1, 'adv:1', -500), (1, 'platform', 500);
    INSERT INTO cb_callbacks (id, tenant, destination, advertiser_name, target, phone, caller_number,
      session_id, origin, token_id, mode, due_at, state, fee, currency, charged_at, charge_key,
      charge_tx, attempts, dialogs, private_claims, watch_hash, created_at, updated_at, ended_at)
      VALUES ('cb-1', 'acme', 'sales', '', 'queue:sales', '+14155550124', '+14155550188', 's-1',
      'https://shop.acme.test', 'jti-1', 'now', 5, 'ended', 500, 'USD', 20, 'callback:cb-1', 1,
      '[]', '[]', '{}', 'h', 5, 20, 30);
    INSERT INTO sessions VALUES ('acme', 's-1', 'https://shop.acme.test', '{}', '{}', '+14155550100',
      0, 99, 1, 2);
    INSERT INTO calls (id, tenant, session_id, session_number, origin, visitor_call_id,
      visitor_transport, visitor_source, state, created_at)
      VALUES ('call-1', 'acme', 's-1', '+14155550100', 'https://shop.acme.test', 'v-1', 'wss',
      '127.0.0.1', 'ended', 3);
    INSERT INTO messages VALUES ('call-1', 1, 'visitor', 4, 'hello'), ('call-1', 2, 'agent', 5, 'hi');
    INSERT INTO vm_voicemails (id, call_id, tenant, queue, status, session_number, session_id, origin,
      public_claims, private_claims, recording_path, created_at)
      VALUES ('vm-1', 'call-1', 'acme', 'sales', 'left', '+14155550100', 's-1',
      'https://shop.acme.test', '{}', '{}', 'vm-1.wav', 6);
    INSERT INTO flow_events VALUES ('call-1', 1, 7, 'verb', 'welcome', 'say', '{"text":"hi"}');
  `);
  return db;
}

const MODULES = [
  ['ledger', ledgerMoveTables()],
  ['callbacks', callbacksMoveTables(OWNER)],
  ['core', coreMoveTables(OWNER)],
  ['voicemail', voicemailMoveTables(OWNER)],
  ['flows', flowsMoveTables()],
] as const;

async function moveAll(db: SqliteDatabase, pool: PgPool, hook?: (line: string) => void) {
  const lines: string[] = [];
  const moves = await moveFile(db, pool, OWNER, MODULES, (l) => {
    lines.push(l);
    hook?.(l);
  });
  return { moves, lines };
}

describe('the move of the ledger, callbacks, core records, voicemail index and flow events', () => {
  it('gives the transactions PostgreSQL ids, names them in the callbacks, and doubles nothing', async () => {
    const pool = await pg.migrated([
      { name: 'ledger', postgres: LEDGER_PG_MIGRATIONS },
      { name: 'callbacks', postgres: CALLBACKS_PG_MIGRATIONS },
      { name: 'voicemail', postgres: VOICEMAIL_PG_MIGRATIONS },
      { name: 'flows', postgres: FLOW_PG_MIGRATIONS },
    ]);
    // Another gateway's transaction holds id 1 already.
    await pool.query(
      `INSERT INTO ledger_accounts VALUES ('other', 'acme', 'platform', 'USD', 0, 1)`,
    );
    await pool.query(
      `INSERT INTO ledger_transactions (key, tenant, kind, meta, created_at) VALUES ('other:1', 'acme', 'adjust', '{}', 1)`,
    );
    const db = fileWithRows();
    const first = await moveAll(db, pool);
    expect(first.lines).toContain('ledger: ledger_accounts: 2 copied, 0 already there');
    expect(first.lines).toContain('ledger: ledger_postings: 2 copied, 0 already there');
    expect(first.lines).toContain('core: messages: 2 copied, 0 already there');
    const tx = await pool.query<{ id: number }>(
      `SELECT id FROM ledger_transactions WHERE key = 'callback:cb-1'`,
    );
    expect(tx.rows[0]?.id).not.toBe(1);
    const cb = await pool.query<{ charge_tx: number; owner: string }>(
      'SELECT charge_tx, owner FROM cb_callbacks',
    );
    expect(cb.rows).toEqual([{ charge_tx: tx.rows[0]?.id, owner: OWNER }]);
    const vm = await pool.query('SELECT gateway FROM vm_voicemails');
    expect(vm.rows).toEqual([{ gateway: OWNER }]);
    const calls = await pool.query('SELECT owner FROM calls');
    expect(calls.rows).toEqual([{ owner: OWNER }]);
    expect((await pool.query('SELECT 1 FROM flow_events')).rowCount).toBe(1);

    // Both records lost (a kill before either): the rows are found equal.
    db.exec('DELETE FROM store_moves; DELETE FROM store_move_tables');
    await pool.query('DELETE FROM store_moves');
    const again = await moveAll(db, pool);
    const copied = again.lines.filter((l) => / [1-9]\d* copied/.test(l));
    expect(copied).toEqual([]);
    const balances = await pool.query('SELECT id, balance FROM ledger_accounts ORDER BY id');
    expect(balances.rows).toEqual([
      { id: 'adv:1', balance: -500 },
      { id: 'other', balance: 0 },
      { id: 'platform', balance: 500 },
    ]);
    db.close();
  });

  it('refuses a different transaction under a moved key, and moves none of the ledger', async () => {
    const pool = await pg.migrated([{ name: 'ledger', postgres: LEDGER_PG_MIGRATIONS }]);
    await pool.query(
      `INSERT INTO ledger_transactions (key, tenant, kind, meta, created_at) VALUES ('callback:cb-1', 'acme', 'charge', '{}', 99)`,
    );
    const db = fileWithRows();
    const refused = await moveFile(
      db,
      pool,
      OWNER,
      [['ledger', ledgerMoveTables()]],
      () => undefined,
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ParleyError);
    expect(refused).toMatchObject({
      code: 'store_move_conflict',
      module: 'ledger',
      tables: [
        { table: 'ledger_transactions', key: ['key'], rows: 1, first: [{ key: 'callback:cb-1' }] },
      ],
    });
    expect((await pool.query('SELECT 1 FROM ledger_accounts')).rowCount).toBe(0);
    db.close();
  });

  const everything = () =>
    pg.migrated([
      { name: 'ledger', postgres: LEDGER_PG_MIGRATIONS },
      { name: 'callbacks', postgres: CALLBACKS_PG_MIGRATIONS },
      { name: 'voicemail', postgres: VOICEMAIL_PG_MIGRATIONS },
      { name: 'flows', postgres: FLOW_PG_MIGRATIONS },
    ]);
  const refusal = (check: () => void): unknown => {
    try {
      check();
      return undefined;
    } catch (error) {
      return error;
    }
  };
  const flowEvent = (seq: number) =>
    `INSERT INTO flow_events VALUES ('call-1', ${seq}, ${seq + 7}, 'verb', 'welcome', 'say', '{}')`;

  it('holds the file for writing while it moves; a row written after the move refuses the start until moved too', async () => {
    const pool = await everything();
    const path = join(mkdtempSync(join(tmpdir(), 'parley-move-file-')), 'parley.sqlite');
    const db = fileWithRows(path);
    // A gateway still running on the file: its write during the move fails (no wait here).
    const gateway = new Database(path);
    gateway.pragma('busy_timeout = 0');
    let during: unknown = 'not tried';
    const first = await moveAll(db, pool, (line) => {
      if (line === 'core: moving') during = refusal(() => gateway.exec(flowEvent(2)));
    });
    expect(during).toMatchObject({ code: 'SQLITE_BUSY' });
    expect(first.lines[0]).toMatch(/held for writing until the move ends/);
    expect(refusal(() => refuseUnmovedFlows(db))).toBeUndefined();
    // Put back on SQLite for a while, the gateway writes another event.
    gateway.exec(flowEvent(2));
    expect(refusal(() => refuseUnmovedFlows(db))).toMatchObject({
      code: 'invalid_config',
      detail: expect.stringMatching(
        /flows rows written after they were moved .*flow_events: 2 rows, 1 moved.*main\.js move/,
      ) as unknown,
    });
    const again = await moveAll(db, pool);
    expect(again.lines).toContainEqual(
      expect.stringMatching(/^ledger: already moved \(.*\), skipped$/),
    );
    expect(again.lines).toContainEqual(
      expect.stringMatching(/^flows: rows written since its move/),
    );
    expect(again.lines).toContain('flows: flow_events: 1 copied, 1 already there');
    expect(refusal(() => refuseUnmovedFlows(db))).toBeUndefined();
    expect((await pool.query('SELECT 1 FROM flow_events')).rowCount).toBe(2);
    gateway.close();
    db.close();
  });

  it("killed after a module's COMMIT, the next run finds it in PostgreSQL's record though the cluster changed its rows", async () => {
    const pool = await everything();
    const db = fileWithRows();
    const killed = await moveAll(db, pool, (line) => {
      if (line === 'callbacks: moving') throw new Error('killed');
    }).catch((error: unknown) => error);
    expect(killed).toMatchObject({ message: 'killed' });
    // The file's marks went with its transaction; the ledger is committed in PostgreSQL.
    expect(db.prepare('SELECT module FROM store_moves').all()).toEqual([]);
    // Meanwhile another gateway charges the advertiser again.
    await pool.query(`UPDATE ledger_accounts SET balance = balance - 100 WHERE id = 'adv:1'`);
    const again = await moveAll(db, pool);
    expect(again.lines).toContainEqual(
      expect.stringMatching(
        /^ledger: already moved \(.*, recorded in PostgreSQL\), marked in the SQLite file, skipped$/,
      ),
    );
    expect(again.lines).toContain('callbacks: cb_callbacks: 1 copied, 0 already there');
    const adv = await pool.query(`SELECT balance FROM ledger_accounts WHERE id = 'adv:1'`);
    expect(adv.rows).toEqual([{ balance: -600 }]);
    expect(db.prepare('SELECT module FROM store_moves ORDER BY module').all()).toHaveLength(5);
    db.close();
  });

  it('a callback whose fee was posted but not marked before a crash moves charged, not to be charged again', async () => {
    const pool = await everything();
    const db = fileWithRows();
    db.exec(`
      INSERT INTO ledger_transactions (id, key, tenant, kind, memo, meta, reverses, created_at)
        VALUES (2, 'callback:cb-2', 'acme', 'charge', NULL, '{}', NULL, 40);
      INSERT INTO ledger_postings VALUES (2, 'adv:1', -500), (2, 'platform', 500);
      UPDATE ledger_accounts SET balance = balance - 500 WHERE id = 'adv:1';
      UPDATE ledger_accounts SET balance = balance + 500 WHERE id = 'platform';
      INSERT INTO cb_callbacks (id, tenant, destination, advertiser_id, advertiser_name, target, phone,
        caller_number, session_id, origin, token_id, mode, due_at, state, fee, currency,
        connected_at, attempts, dialogs, private_claims, watch_hash, created_at, updated_at, ended_at)
        VALUES ('cb-2', 'acme', 'sales', 'adv:1', '', 'queue:sales', '+14155550125', '+14155550188',
        's-1', 'https://shop.acme.test', 'jti-2', 'now', 6, 'ended', 500, 'USD', 35, '[]', '[]', '{}',
        'h', 6, 39, 39);
    `);
    const moved = await moveAll(db, pool);
    expect(moved.lines).toContain(
      'callbacks: cb_callbacks charged from their posting: 1 copied, 0 already there',
    );
    const tx = await pool.query<{ id: number }>(
      `SELECT id FROM ledger_transactions WHERE key = 'callback:cb-2'`,
    );
    const cb = await pool.query(
      `SELECT charged_at, charge_key, charge_tx FROM cb_callbacks WHERE id = 'cb-2'`,
    );
    expect(cb.rows).toEqual([
      { charged_at: 40, charge_key: 'callback:cb-2', charge_tx: tx.rows[0]?.id },
    ]);
    // PostgreSQL's start charges the uncharged ones: none.
    expect(await new PgCallbackStore(pool, OWNER).uncharged()).toEqual([]);
    // Moved again with the records lost: equal in the file and in PostgreSQL.
    db.exec('DELETE FROM store_moves; DELETE FROM store_move_tables');
    await pool.query('DELETE FROM store_moves');
    const again = await moveAll(db, pool);
    expect(again.lines).toContain('callbacks: cb_callbacks: 0 copied, 2 already there');
    db.close();
  });
});
