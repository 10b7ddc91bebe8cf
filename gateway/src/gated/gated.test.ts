/**
 * A gateway moving to `storage.kind: postgres` whose SQLite file still holds
 * gated accounts, residents, devices or audit entries (from before they moved
 * to PostgreSQL) refuses to start: on PostgreSQL they would read as none,
 * their balances, credit keys, residents and devices lost. Nothing is
 * touched; the pool is never used.
 */
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@parley/shared/tokens';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../observability/index.js';
import { openDatabase, type SqliteDatabase } from '../storage/index.js';
import type { PgPool } from '../storage/postgres/index.js';
import { createGatedModule } from './gated.js';
import { device, resident } from './store/residents-contract.js';
import { account } from './store/store-contract.js';
import { GATED_SCHEMA, createSqliteGatedStore } from './store/index.js';

describe('the gated module on PostgreSQL', () => {
  it('refuses to start while the SQLite file holds residents and devices', async () => {
    const db = openDatabase(':memory:', [GATED_SCHEMA]);
    const sqlite = createSqliteGatedStore(db);
    await sqlite.devices.put(device('cell-1'));
    await sqlite.residents.put(resident('r-1', { devices: ['cell-1'] }));
    await expect(start(db)).rejects.toMatchObject({
      code: 'invalid_config',
      detail: expect.stringMatching(/\(1 residents, 1 devices\)/) as unknown,
    });
    expect(db.prepare('SELECT id FROM gated_residents').all()).toEqual([{ id: 'r-1' }]);
    db.close();
  });

  it('refuses to start while the SQLite file holds accounts', async () => {
    const db = openDatabase(':memory:', [GATED_SCHEMA]);
    await createSqliteGatedStore(db).accounts.insert(account('acc-1'));
    await expect(start(db)).rejects.toMatchObject({
      code: 'invalid_config',
      detail: expect.stringMatching(
        /rows from before they moved to PostgreSQL \(1 accounts\)/,
      ) as unknown,
    });
    // Still there, as it was.
    expect(db.prepare('SELECT id FROM gated_accounts').all()).toEqual([{ id: 'acc-1' }]);
    db.close();
  });
});

/** The gated module started on `db` with a pool that throws when used. */
async function start(db: SqliteDatabase) {
  const config = loadConfig({
    input: {
      gatewayId: 'gw',
      tokens: { encryptionKeys: [(await generateEncryptionKeyPair()).privateJwk] },
      tenants: { facility: { jwks: [(await generateSigningKeyPair()).publicJwk] } },
    },
  });
  const untouched = new Proxy({} as PgPool, {
    get: () => {
      throw new Error('the pool was used');
    },
  });
  return createGatedModule({
    config,
    db,
    pool: untouched,
    registry: new Registry(),
    logger: createLogger('silent'),
    now: Date.now,
  });
}
