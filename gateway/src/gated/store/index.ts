export { GATED_SCHEMA } from './schema.js';
export { createSqliteGatedStore } from './sqlite-gated-store.js';
export type * from './store.js';
