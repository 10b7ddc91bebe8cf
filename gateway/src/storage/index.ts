export { migrateModule, openDatabase, type SchemaModule, type SqliteDatabase } from './database.js';
export { SqliteCallStore, type CallStore, type SharedCallRecords } from './call-store.js';
export { SqliteSessionStore, type LiveLease, type SessionStore } from './session-store.js';
export { SqliteMessageStore, type MessageStore } from './message-store.js';
export {
  SqliteAgentStore,
  type AgentStore,
  type StoredAgent,
  type StoredAgentProfile,
} from './agent-store.js';
export type {
  CallAttempt,
  CallOutcome,
  CallChannel,
  CallParty,
  CallRecord,
  CallState,
  InterruptedCall,
  SessionRecord,
  StoredDialog,
} from './records.js';
export { coreMoveTables, refuseUnmovedCore } from './move.js';
