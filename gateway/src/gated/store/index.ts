export { GATED_SCHEMA } from './schema.js';
export { GATED_PG_MIGRATIONS } from './postgres/pg-schema.js';
export { createPgGatedStore } from './pg-gated-store.js';
export { createSqliteGatedStore } from './sqlite-gated-store.js';
export type * from './store.js';
export { gatedMoveTables } from './move.js';
