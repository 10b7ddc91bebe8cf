/** The matcher's cases on SQLite: the chunk matched as a set (`SqliteChunkMatch`), and row-wise. */
import { LEDGER_SCHEMA } from '../../ledger/index.js';
import { openDatabase } from '../../storage/index.js';
import { SqliteImpressionStore } from '../impression-store.js';
import { MARKETPLACE_SCHEMA } from '../schema.js';
import { describeMatcher, matcherWorld } from './matcher-cases.js';
import { SqliteChunkMatch } from './sqlite-chunk-match.js';
import { SqliteCallEntryStore } from './store.js';

for (const path of ['sets', 'rows'] as const)
  describeMatcher(`SQLite, ${path}`, async () => {
    const db = openDatabase(':memory:', [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
    return matcherWorld(
      new SqliteImpressionStore(db),
      new SqliteCallEntryStore(db),
      path === 'sets' ? new SqliteChunkMatch(db) : undefined,
    );
  });
