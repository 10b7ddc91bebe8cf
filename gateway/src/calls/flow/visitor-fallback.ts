/**
 * What a visitor's call (a browser or a SIP visitor with a token) does when no
 * agent takes it (docs/flows.md, "where flows run"), the same as a DID's
 * `enqueue` of the queue would: the queue decides which flow
 * (`QueueService.visitorFallback`, the one chain in `queues/fallback.ts`);
 * here that flow is run on the call when the ring gives up:
 *
 * - outside the queue's `businessHours` no agent is rung: the queue's
 *   `flows.closed` runs, else its voicemail answers (voicemail/rules.ts), else
 *   the tenant's `defaultFlow`, else the built-in apology and a hang-up with
 *   `outside_business_hours`;
 * - open, and every agent rang out or none is free: a queue with `waiting`
 *   puts the caller in the queue (an `enqueue`: hold music, announcements, the
 *   next free agent; the queue's own fallbacks follow), else the queue's
 *   `flows.noAnswer`, else the tenant's `defaultFlow`; a queue with voicemail
 *   and no `waiting` leaves it to voicemail, and with none of these the call
 *   ends as before (480 `no_agent_available`).
 *
 * Trunk calls run their DID's flows and are left alone.
 */
import type { FlowRef } from '../../flows/index.js';
import type { Logger } from '../../observability/index.js';
import type { VisitorFallback } from '../../queues/index.js';
import type { CallManager } from '../call-manager.js';
import type { Call } from '../call.js';
import { outcomeOf } from '../ring-outcome.js';

/** The queues as visitor calls need them (`QueueService`). */
export interface VisitorQueues {
  /** The flow a visitor's call to `queue` runs when no agent takes it; undefined: none. */
  visitorFallback(queue: string): VisitorFallback | undefined;
}

export interface VisitorFallbackDeps {
  readonly calls: Pick<CallManager, 'onCall'>;
  readonly queues: VisitorQueues;
  readonly run: (call: Call, flow: FlowRef) => Promise<unknown>;
  readonly logger: Logger;
}

export function visitorFallbacks(deps: VisitorFallbackDeps): void {
  const log = deps.logger.child({ module: 'visitor-fallback' });
  deps.calls.onCall((call) => {
    if (!call.token) return;
    const queue = call.record.queue;
    if (!queue) return;
    // Decided when the call starts, as voicemail's rules are.
    const choice = deps.queues.visitorFallback(queue);
    if (!choice) return;
    if (choice.closed) call.skipAgents('outside_business_hours');
    call.keepOnNoAgent();
    call.once('agentsExhausted', (reason) => {
      if (call.ending) return;
      log.info(
        { callId: call.id, queue, reason, closed: choice.closed },
        'no agent takes the call: its queue flow runs',
      );
      deps.run(call, choice.flow).catch((error: unknown) => {
        log.error({ err: error, callId: call.id }, 'the queue flow failed');
        if (!call.ending) call.end({ outcome: outcomeOf(reason), endedBy: 'gateway', reason });
      });
    });
  });
}
