export {
  SessionNumberPool,
  expandRanges,
  type NumberPoolConfig,
  type SessionNumber,
} from './session-number-pool.js';
