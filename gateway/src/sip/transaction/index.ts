export {
  TransactionLayer,
  type ClientTransaction,
  type RequestScreen,
  type ServerTransaction,
  type TransactionLayerEvents,
  type TransactionStats,
} from './transaction-layer.js';
export {
  InviteClientTransaction,
  NonInviteClientTransaction,
  ackForNon2xx,
  buildCancel,
} from './client-transactions.js';
export { InviteServerTransaction, NonInviteServerTransaction } from './server-transactions.js';
export { DEFAULT_TIMERS, type TimerBase } from './timers.js';
