/**
 * The runner and the service around a store that answers late (as
 * PostgreSQL does, each query on its own connection): a cancel that reads a
 * callback scheduled while this gateway claims it; a store that fails. The
 * same races on a real PostgreSQL: `runner.postgres.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../storage/index.js';
import type { CallbackRecord, CallbackState } from './model.js';
import { runnerWorld } from './runner-world.js';
import { CALLBACKS_SCHEMA } from './schema.js';
import { SqliteCallbackStore } from './sqlite-store.js';
import { callbackRecord } from './store-contract.js';
import type { CallbackStore } from './store.js';

function deferred() {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Store hooks: each may hold a call before (or after) it reaches the database. */
interface Hooks {
  claim?: (commit: () => Promise<boolean>) => Promise<boolean>;
  saveIf?: (record: CallbackRecord, from: CallbackState) => Promise<void>;
  save?: (record: CallbackRecord) => Promise<void>;
}

function world(hooks: Hooks = {}) {
  const db = new SqliteCallbackStore(openDatabase(':memory:', [CALLBACKS_SCHEMA]));
  const store: CallbackStore = {
    insert: (...a) => db.insert(...a),
    get: (id) => db.get(id),
    save: async (r) => {
      await hooks.save?.(r);
      return db.save(r);
    },
    saveIf: async (r, from) => {
      await hooks.saveIf?.(r, from);
      return db.saveIf(r, from);
    },
    claim: (r) => (hooks.claim ? hooks.claim(() => db.claim(r)) : db.claim(r)),
    markCharged: (...a) => db.markCharged(...a),
    list: (f) => db.list(f),
    scheduled: () => db.scheduled(),
    inProgress: () => db.inProgress(),
    uncharged: () => db.uncharged(),
    countForNumber: (...a) => db.countForNumber(...a),
    countForSession: (...a) => db.countForSession(...a),
    watchHash: (id) => db.watchHash(id),
  };
  return { db, store, ...runnerWorld(store) };
}

describe('CallbackRunner with a cancel', () => {
  it('runs a due callback to its dial (the fake attempt fails: no trunk)', async () => {
    const { db, service, dials } = world();
    await db.insert(callbackRecord('cb-1'), 'h');
    await service.run('cb-1');
    expect(dials).toEqual(['acme']);
    expect(await db.get('cb-1')).toMatchObject({ state: 'ended', outcome: 'failed' });
  });

  it('never dials a callback cancelled while this gateway claimed it, and says cancelled', async () => {
    const claiming = deferred();
    const commit = deferred();
    const committed = deferred();
    const { db, service, dials } = world({
      // The claim reaches the database once the cancel read the callback scheduled…
      claim: async (write) => {
        claiming.resolve();
        await commit.promise;
        const ok = await write();
        committed.resolve();
        return ok;
      },
      // …and commits before the cancel's conditional write.
      saveIf: async (r) => {
        if (r.outcome !== 'cancelled') return;
        commit.resolve();
        await committed.promise;
      },
    });
    await db.insert(callbackRecord('cb-1'), 'h');
    const run = service.run('cb-1');
    await claiming.promise;
    const answer = await service.cancel('cb-1');
    await run;
    expect(answer).toMatchObject({ state: 'ended', outcome: 'cancelled' });
    expect(dials).toEqual([]);
    expect(await db.get('cb-1')).toMatchObject({
      state: 'ended',
      outcome: 'cancelled',
      attempts: [],
    });
  });

  it('never dials a callback whose cancel wins the row first', async () => {
    const claiming = deferred();
    const commit = deferred();
    const { db, service, dials } = world({
      claim: async (write) => {
        claiming.resolve();
        await commit.promise;
        return write();
      },
    });
    await db.insert(callbackRecord('cb-1'), 'h');
    const run = service.run('cb-1');
    await claiming.promise;
    const answer = await service.cancel('cb-1');
    commit.resolve();
    await run;
    expect(answer).toMatchObject({ state: 'ended', outcome: 'cancelled' });
    expect(dials).toEqual([]);
  });
});

describe('CallbackRunner with a store that fails', () => {
  it('tries an attempt’s end again, and at the next run, until it is written', async () => {
    let down = 4;
    const { db, service, dials, writeFailures } = world({
      save: (r) =>
        r.state === 'ended' && (down -= 1) >= 0
          ? Promise.reject(new Error('Connection terminated unexpectedly'))
          : Promise.resolve(),
    });
    await db.insert(callbackRecord('cb-1'), 'h');
    // Three tries fail: the run rejects (the scheduler runs it again later), the row is calling.
    await expect(service.run('cb-1')).rejects.toThrow(/Connection terminated/);
    expect(writeFailures).toHaveLength(1);
    expect(await db.get('cb-1')).toMatchObject({ state: 'calling' });
    // The next run writes the end (one more failure, then written): never dialled again.
    await service.run('cb-1');
    expect(await db.get('cb-1')).toMatchObject({ state: 'ended', outcome: 'failed' });
    expect(dials).toEqual(['acme']);
  });
});
