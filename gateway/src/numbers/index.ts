export {
  SessionNumberPool,
  expandRanges,
  type ClaimOutcome,
  type NumberPoolConfig,
  type SessionNumber,
  type SessionNumberSource,
} from './session-number-pool.js';
export {
  callerNumberClaim,
  checkCallerNumberClaim,
  type ClaimCheck,
  type ClaimRefusal,
} from './caller-number-claim.js';
export { FreeQueue, MAX_POOL, NumberIndex } from './number-index.js';
export { E164, NumberRanges, rangeProblem, type NumberRange } from './number-ranges.js';
export type { SharedNumberLeases } from './shared-leases.js';
