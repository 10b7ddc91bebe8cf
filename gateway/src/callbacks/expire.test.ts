/**
 * An agent-free callback's expiry on a SQLite file, through the scheduler
 * as `module.ts` wires it (`scheduling.ts`, in `runner-world.ts`): the file
 * busy (another connection holds its write lock) when the expiry comes, and
 * a restart after the expiry time. The same with a cut PostgreSQL
 * connection: `runner.postgres.test.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '@parley/testkit';
import { openDatabase, type SqliteDatabase } from '../storage/index.js';
import { runnerWorld } from './runner-world.js';
import { CALLBACKS_SCHEMA } from './schema.js';
import { SqliteCallbackStore } from './sqlite-store.js';
import { callbackRecord } from './store-contract.js';

const dirs: string[] = [];
const open: SqliteDatabase[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function file(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cb-expire-'));
  dirs.push(dir);
  return join(dir, 'gateway.db');
}

/** The gateway's connection to the file (a short busy wait: the test need not sit 5 s). */
function gatewayDb(path: string): SqliteDatabase {
  const db = openDatabase(path, [CALLBACKS_SCHEMA]);
  db.pragma('busy_timeout = 50');
  open.push(db);
  return db;
}

function agentFree(id: string, expiresAt: number) {
  return callbackRecord(id, {
    mode: 'agent-free',
    target: { kind: 'queue', queue: 'sales' },
    dueAt: expiresAt - 60_000,
    expiresAt,
  });
}

describe('an expiry on a SQLite file', () => {
  it('the file busy at the expiry: tried again, ended expired once the lock is gone', async () => {
    const path = file();
    const store = new SqliteCallbackStore(gatewayDb(path));
    const { service, events, storeFailures, dials, scheduler } = runnerWorld(store, {
      freeAgents: () => 0,
      retryDelayMs: 100,
    });
    const record = agentFree('cb-1', Date.now() + 100);
    await store.insert(record, 'h');
    // Another connection (a backup, a migration, another process) holds the write lock.
    const other = new Database(path);
    open.push(other);
    other.exec('BEGIN IMMEDIATE');
    service.schedule(record);
    await until(() => storeFailures.length >= 2 || undefined, 'two expiries failed');
    expect(await store.get('cb-1')).toMatchObject({ state: 'scheduled' });
    // Before: the expiry was logged and dropped, the callback left scheduled (until a restart).
    expect(scheduler.has('cb-1')).toBe(true);
    other.exec('COMMIT');
    const ended = async () => {
      const row = await store.get('cb-1');
      return row?.state === 'ended' ? row : undefined;
    };
    expect(await until(ended, 'the callback expired')).toMatchObject({
      outcome: 'expired',
      code: 'callback_advertiser_unavailable',
    });
    expect(storeFailures.every((s) => s === 'expire')).toBe(true);
    expect(events.every((e) => e === 'expire cb-1')).toBe(true);
    expect(events.length).toBe(storeFailures.length + 1);
    expect(dials).toEqual([]);
    await until(() => !scheduler.has('cb-1') || undefined, 'the scheduler done with it');
    scheduler.close();
  });

  it('a cancel while the file is busy fails and leaves the callback waiting in the scheduler; the next cancel ends it', async () => {
    const path = file();
    const store = new SqliteCallbackStore(gatewayDb(path));
    const { service, dials, scheduler } = runnerWorld(store, {
      freeAgents: () => 0,
      retryDelayMs: 100,
    });
    const record = agentFree('cb-3', Date.now() + 600_000);
    await store.insert(record, 'h');
    service.schedule(record);
    const other = new Database(path);
    open.push(other);
    other.exec('BEGIN IMMEDIATE');
    await expect(service.cancel('cb-3')).rejects.toThrow(/busy|locked/i);
    // Before: taken out of the scheduler first, left scheduled in the file with nobody holding it.
    expect(scheduler.has('cb-3')).toBe(true);
    expect(await store.get('cb-3')).toMatchObject({ state: 'scheduled' });
    other.exec('COMMIT');
    expect(await service.cancel('cb-3')).toMatchObject({ state: 'ended', outcome: 'cancelled' });
    expect(scheduler.has('cb-3')).toBe(false);
    expect(dials).toEqual([]);
    scheduler.close();
  });

  it('a restart after its expiry time: expired at start, never run', async () => {
    const path = file();
    const store = new SqliteCallbackStore(gatewayDb(path));
    await store.insert(agentFree('cb-2', Date.now() - 1000), 'h');
    // Agents free at once: an overdue one must still not be placed.
    const { service, events, dials, scheduler } = runnerWorld(store, {
      freeAgents: () => 1,
      retryDelayMs: 100,
    });
    await service.start();
    const ended = async () => {
      const row = await store.get('cb-2');
      return row?.state === 'ended' ? row : undefined;
    };
    expect(await until(ended, 'the callback expired')).toMatchObject({ outcome: 'expired' });
    expect(events).toEqual(['expire cb-2']);
    expect(dials).toEqual([]);
    scheduler.close();
  });
});
