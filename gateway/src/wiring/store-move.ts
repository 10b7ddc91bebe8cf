/**
 * `parley-gateway move`: copies the rows a gateway's SQLite file keeps of the
 * modules that live in PostgreSQL with `storage.kind: postgres` (the gated
 * facility, the ledger, the marketplace, the callbacks, the core records,
 * the voicemail index, the flows' events, in that order) into PostgreSQL, one transaction per
 * module, and marks each moved in the file, so the gateway's start-up check
 * passes (`storage/postgres/sqlite-move.ts`; docs/scaling.md, "Moving a
 * SQLite file's rows"). The file is read and marked in one SQLite write
 * transaction: a gateway still running on it has its writes wait, then fail;
 * rows written to it after the move make the start refuse until moved too.
 */
import { ParleyError } from '@parley/shared/errors';
import { callbacksMoveTables } from '../callbacks/index.js';
import type { Config } from '../config/index.js';
import { flowsMoveTables } from '../flows/index.js';
import { GATED_SCHEMA, gatedMoveTables } from '../gated/index.js';
import { ledgerMoveTables } from '../ledger/index.js';
import { marketplaceMoveTables } from '../marketplace/index.js';
import type { Logger } from '../observability/index.js';
import { coreMoveTables, migrateModule } from '../storage/index.js';
import {
  moveFile,
  type ModuleMove,
  type MovedTable,
  type MoveProgress,
  type MoveStep,
} from '../storage/postgres/index.js';
import { voicemailMoveTables } from '../voicemail/index.js';
import { openStores } from './stores.js';

export async function moveSqliteRows(
  config: Config,
  logger: Logger,
  progress: MoveProgress,
): Promise<readonly ModuleMove[]> {
  if (config.storage.kind !== 'postgres')
    throw new ParleyError(
      'invalid_config',
      '\n  - storage.kind: the move copies the SQLite file into PostgreSQL: set storage.kind to postgres (and storage.postgres) first',
    );
  // The schemas up to date on both sides; no interrupted call closed (like `migrate`).
  const stores = await openStores(config, logger, Date.now, { migrateOnly: true });
  try {
    const pool = stores.pool;
    if (!pool) throw new Error('storage.kind is postgres but no pool was opened');
    migrateModule(stores.db, GATED_SCHEMA);
    const owner = config.shared.instanceId ?? config.gatewayId;
    progress(`moving ${config.storage.path} into PostgreSQL (owner ${owner})`);
    // The ledger before the marketplace and the callbacks: their charges name its transactions.
    const modules: readonly [string, readonly (MovedTable | MoveStep)[]][] = [
      ['gated', gatedMoveTables(owner)],
      ['ledger', ledgerMoveTables()],
      ['marketplace', marketplaceMoveTables(owner)],
      ['callbacks', callbacksMoveTables(owner)],
      ['core', coreMoveTables(owner)],
      ['voicemail', voicemailMoveTables(owner)],
      ['flows', flowsMoveTables()],
    ];
    return await moveFile(stores.db, pool, owner, modules, progress);
  } finally {
    await stores.close();
  }
}
