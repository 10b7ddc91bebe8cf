export { createCallbacksModule, type CallbacksModule, type CallbacksModuleDeps } from './module.js';
export { CALLBACKS_SCHEMA } from './schema.js';
export { CALLBACKS_PG_MIGRATIONS } from './pg-schema.js';
export type { CallbackBilling } from './marketplace-ports.js';
export type { CallbackRecord, CallbackOutcome, CallbackState } from './model.js';
export { callbackView } from './routes.js';
export { callbacksMoveTables } from './move.js';
