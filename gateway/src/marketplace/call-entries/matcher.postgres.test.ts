/**
 * The matcher's cases on a real PostgreSQL (the testkit's): the chunk
 * matched as a set (`PgChunkMatch`, the gateway's on `storage.kind:
 * postgres`), and row-wise; and two batches racing with one entry id.
 */
import { describe, expect, it } from 'vitest';
import { useTestPostgres } from '../../storage/postgres/test-postgres.js';
import { PgCallEntryStore } from '../postgres/pg-call-entry-store.js';
import { PgChunkMatch } from '../postgres/pg-chunk-match.js';
import { PgImpressionStore } from '../postgres/pg-impression-store.js';
import { MARKETPLACE_PG_MIGRATIONS } from '../postgres/pg-schema.js';
import { describeMatcher, entry, matcherWorld } from './matcher-cases.js';
import type { MatchThreshold } from './matcher.js';

const pg = useTestPostgres('entries');

const migrated = () => pg.migrated([{ name: 'marketplace', postgres: MARKETPLACE_PG_MIGRATIONS }]);

for (const path of ['sets', 'rows'] as const)
  describeMatcher(`PostgreSQL, ${path}`, async () => {
    const pool = await migrated();
    return matcherWorld(
      new PgImpressionStore(pool),
      new PgCallEntryStore(pool),
      path === 'sets' ? new PgChunkMatch(pool) : undefined,
    );
  });

describe('PgChunkMatch', () => {
  it('stores an id sent by two batches at once once, and answers the other duplicate', async () => {
    const pool = await migrated();
    const T0 = Date.UTC(2025, 0, 15, 12, 0);
    const time: MatchThreshold = { rule: 'time', windowSeconds: 1800, minDurationSeconds: 0 };
    const one = matcherWorld(
      new PgImpressionStore(pool),
      new PgCallEntryStore(pool),
      new PgChunkMatch(pool),
    );
    const two = matcherWorld(
      new PgImpressionStore(pool),
      new PgCallEntryStore(pool),
      new PgChunkMatch(pool),
    );
    await one.log('a', 'dev-1', '+14155550101', T0 - 60_000);
    for (let round = 0; round < 10; round += 1) {
      const batch = Array.from({ length: 50 }, (_, k) => entry(`r${round}-${k}`, 'dev-1', T0));
      const [x, y] = await Promise.all([
        one.matcher.processChunk('acme', batch, time, T0),
        two.matcher.processChunk('acme', batch, time, T0),
      ]);
      batch.forEach((e, k) => {
        const answers = [x?.[k], y?.[k]].map((r) => r?.status).sort();
        expect(answers, e.id).toEqual(['duplicate', 'matched']);
      });
    }
  });
});
