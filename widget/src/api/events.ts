/** Details of the DOM events `<parley-call>` fires (typed on HTMLElementEventMap in ../call-element/). */
import type { ParleyMessage } from '@parley/shared/protocol';
import type { CallState } from './call-state.js';

/** `parley-state`: the call moved to `state` (`code` is set for `error`). */
export interface ParleyStateDetail {
  readonly state: CallState;
  readonly code?: string;
}

/** `parley-message`: a message arrived from the agent's side. */
export interface ParleyMessageDetail {
  readonly message: ParleyMessage;
}

/** `parley-hold`: the agent put the visitor on hold (`held: true`) or resumed the call. */
export interface ParleyHoldDetail {
  readonly held: boolean;
}

/**
 * `parley-queue`: the visitor waits in a queue (`waiting`, with `position`
 * and `estimatedWaitSeconds`), an agent is being rung (`connecting`), or the
 * wait is over (`left`, with `reason`).
 */
export interface ParleyQueueDetail {
  readonly state: 'waiting' | 'connecting' | 'left';
  readonly queue: string;
  readonly position?: number;
  /** null: no estimate. */
  readonly estimatedWaitSeconds?: number | null;
  readonly reason?: string;
}

/** `parley-error`: the call failed; `code` is stable, `human` is what the visitor was shown. */
export interface ParleyErrorDetail {
  readonly code: string;
  /** For developers. */
  readonly message: string;
  /** For the visitor. */
  readonly human: string;
  /** From the token endpoint, when waiting helps (rate limits). */
  readonly retryAfterSeconds?: number;
}
