/** How an agent leg's failure, and the last of them, name the call's end (`ErrorCode`, `CallOutcome`). */
import type { ErrorCode } from '@parley/shared/errors';
import type { CallOutcome } from '../storage/index.js';
import type { OutboundFailure } from './outbound-leg.js';

/** An agent leg's failure as the call's reason. */
export function failureReason(failure: OutboundFailure): ErrorCode {
  switch (failure.cause) {
    case 'busy':
      return 'agent_busy';
    case 'no_answer':
      return 'agent_no_answer';
    case 'unreachable':
      return 'agent_unreachable';
  }
}

/** The call's outcome when no agent took it, by the last reason. */
export function outcomeOf(reason: ErrorCode): CallOutcome {
  switch (reason) {
    case 'agent_busy':
      return 'busy';
    case 'agent_no_answer':
      return 'no_answer';
    case 'no_agent_available':
      return 'no_agent';
    default:
      return 'failed';
  }
}
