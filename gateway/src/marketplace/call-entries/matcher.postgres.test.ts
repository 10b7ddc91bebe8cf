/**
 * The matcher's cases on a real PostgreSQL (the testkit's): the chunk
 * matched as a set (`PgChunkMatch`, the gateway's on `storage.kind:
 * postgres`), and row-wise; two batches racing with one entry id; a batch
 * read while the server matches its chunk before (ids repeated across chunks).
 */
import { describe, expect, it } from 'vitest';
import type { SourceItem } from './sources.js';
import { ingest } from './ingest.js';
import { useTestPostgres } from '../../storage/postgres/test-postgres.js';
import { PgCallEntryStore } from '../postgres/pg-call-entry-store.js';
import { PgChunkMatch } from '../postgres/pg-chunk-match.js';
import { PgImpressionStore } from '../postgres/pg-impression-store.js';
import { MARKETPLACE_PG_MIGRATIONS } from '../postgres/pg-schema.js';
import { describeMatcher, entry, matcherWorld } from './matcher-cases.js';
import type { MatchThreshold } from './match-types.js';

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

  it('matches a batch chunk after chunk in order while reading ahead: an id of the chunk before is a duplicate', async () => {
    const pool = await migrated();
    const T0 = Date.UTC(2025, 0, 15, 12, 0);
    const time: MatchThreshold = { rule: 'time', windowSeconds: 1800, minDurationSeconds: 0 };
    const inner = new PgChunkMatch(pool);
    const world = matcherWorld(new PgImpressionStore(pool), new PgCallEntryStore(pool), {
      chunkSize: 3,
      matchAndStore: (...args) => inner.matchAndStore(...args),
    });
    await world.log('a', 'dev-1', '+14155550101', T0 - 60_000);
    const ids = ['x1', 'x2', 'x3', 'x3', 'x4', 'x1', 'x5', 'x4', 'x6'];
    async function* source(): AsyncGenerator<SourceItem> {
      for (const [k, id] of ids.entries())
        yield { kind: 'value', at: `entry ${k}`, value: { id, deviceId: 'dev-1', startedAt: T0 } };
    }
    const batch = ingest(source(), {
      matcher: world.matcher,
      tenant: 'acme',
      threshold: time,
      now: () => T0,
    });
    const statuses: string[] = [];
    let step = await batch.next();
    while (!step.done) {
      statuses.push(step.value.status);
      step = await batch.next();
    }
    expect(step.value.error).toBeNull();
    expect(statuses).toEqual([
      'matched',
      'matched',
      'matched',
      'duplicate',
      'matched',
      'duplicate',
      'matched',
      'duplicate',
      'matched',
    ]);
  });
});
