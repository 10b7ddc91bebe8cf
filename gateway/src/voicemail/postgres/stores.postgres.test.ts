/**
 * The voicemail store's contract (`../store-contract.ts`) on a real
 * PostgreSQL (Debian `postgresql`, started by the testkit), migrated by the
 * gateway's own path (`migratePostgres` with the voicemail module), with a
 * second gateway's store on the same database: each closes and deletes only
 * the rows whose WAV it holds, both read and mark every row.
 */
import { describe, expect, it } from 'vitest';
import { migratePostgres, type PgPool } from '../../storage/postgres/index.js';
import { useTestPostgres } from '../../storage/postgres/test-postgres.js';
import { base, voicemailStoreContract } from '../store-contract.js';
import { VOICEMAIL_PG_MIGRATIONS } from './pg-schema.js';
import { PgVoicemailStore } from './pg-store.js';

const pg = useTestPostgres('vm');
const pgPool = (): Promise<PgPool> =>
  pg.migrated([{ name: 'voicemail', postgres: VOICEMAIL_PG_MIGRATIONS }]);

voicemailStoreContract('PostgreSQL', async () => {
  const pool = await pgPool();
  return { store: new PgVoicemailStore(pool, 'gw-a'), other: new PgVoicemailStore(pool, 'gw-b') };
});

describe('the PostgreSQL voicemail store', () => {
  it('migrates once: a second run applies nothing', async () => {
    const pool = await pgPool();
    expect(
      await migratePostgres(pool, [{ name: 'voicemail', postgres: VOICEMAIL_PG_MIGRATIONS }]),
    ).toEqual({ applied: 0 });
  });

  it('lets one mark of two gateways at once win', async () => {
    const pool = await pgPool();
    const a = new PgVoicemailStore(pool, 'gw-a');
    const b = new PgVoicemailStore(pool, 'gw-b');
    await a.insert(base);
    await a.finish(base.id, { status: 'left', endedAt: 2000, durationMs: 1, endReason: 'key' });
    const marks = await Promise.all([
      a.markHeard(base.id, 3000, 'ada'),
      b.markHeard(base.id, 3001, 'bob'),
    ]);
    expect(marks).toEqual(['marked', 'marked']);
    const got = await b.get(base.id);
    expect([
      [3000, 'ada'],
      [3001, 'bob'],
    ]).toContainEqual([got?.heardAt, got?.heardBy]);
    expect(await a.get(base.id)).toMatchObject({ heardAt: got?.heardAt, heardBy: got?.heardBy });
  });
});
