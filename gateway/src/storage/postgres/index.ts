export {
  createPgPool,
  inTransaction,
  withHeldClient,
  migratePostgres,
  type PgClient,
  type PgPool,
  type PostgresSettings,
} from './pg-database.js';
export { PG_MIGRATIONS } from './pg-migrations.js';
export { KeyedQueue } from './keyed-queue.js';
export { isUniqueViolation, transientPgError } from './pg-errors.js';
export { PgAgentStore, PgCallStore, PgMessageStore, PgSessionStore } from './pg-stores.js';
export { JOURNAL_MOVE_MS, JournalMover, type JournalMove } from './journal-mover.js';
export {
  MOVE_COMMAND,
  moveFile,
  moveModule,
  movedAt,
  refuseUnmoved,
  type ModuleMove,
  type MoveStep,
  type MoveProgress,
  type MovedTable,
  type TableMoved,
} from './sqlite-move.js';
export { PROGRESS_EVERY } from './move-table.js';
export {
  KEYS_SHOWN,
  MoveConflicts,
  StoreMoveConflict,
  type ConflictedTable,
  type StoreMoveConflictBody,
} from './move-conflict.js';
