/**
 * A gateway moving to `storage.kind: postgres` whose SQLite file still holds
 * gated accounts (from before they moved to PostgreSQL) refuses to start:
 * on PostgreSQL they would read as none, their balances and credit keys
 * lost. Nothing is touched; the pool is never used.
 */
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@parley/shared/tokens';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../observability/index.js';
import { openDatabase } from '../storage/index.js';
import type { PgPool } from '../storage/postgres/index.js';
import { createGatedModule } from './gated.js';
import { account } from './store/store-contract.js';
import { GATED_SCHEMA, createSqliteGatedStore } from './store/index.js';

describe('the gated module on PostgreSQL', () => {
  it('refuses to start while the SQLite file holds accounts', async () => {
    const config = loadConfig({
      input: {
        gatewayId: 'gw',
        tokens: { encryptionKeys: [(await generateEncryptionKeyPair()).privateJwk] },
        tenants: { facility: { jwks: [(await generateSigningKeyPair()).publicJwk] } },
      },
    });
    const db = openDatabase(':memory:', [GATED_SCHEMA]);
    await createSqliteGatedStore(db).accounts.insert(account('acc-1'));
    const untouched = new Proxy({} as PgPool, {
      get: () => {
        throw new Error('the pool was used');
      },
    });
    await expect(
      createGatedModule({
        config,
        db,
        pool: untouched,
        registry: new Registry(),
        logger: createLogger('silent'),
        now: Date.now,
      }),
    ).rejects.toMatchObject({
      code: 'invalid_config',
      detail: expect.stringMatching(/1 gated accounts from before they moved/) as unknown,
    });
    // Still there, as it was.
    expect(db.prepare('SELECT id FROM gated_accounts').all()).toEqual([{ id: 'acc-1' }]);
    db.close();
  });
});
