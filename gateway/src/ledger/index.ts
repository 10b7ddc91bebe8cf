export type {
  GuardedPostResult,
  LedgerStore,
  PostCheck,
  PostGuard,
  SharedLedgerStore,
} from './ledger-store.js';
export { LEDGER_SCHEMA, SqliteLedgerStore } from './sqlite-ledger-store.js';
export { LEDGER_PG_MIGRATIONS } from './pg-ledger-schema.js';
export { PgLedgerStore } from './pg-ledger-store.js';
export { MAX_POSTING, assertBalanced, samePostings } from './postings.js';
export type {
  AccountKind,
  LedgerAccount,
  LedgerProblem,
  LedgerTransaction,
  PostInput,
  PostResult,
  Posting,
} from './types.js';
export { ledgerMoveTables, refuseUnmovedLedger } from './move.js';
