export type { LedgerStore } from './ledger-store.js';
export { LEDGER_SCHEMA, SqliteLedgerStore } from './sqlite-ledger-store.js';
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
