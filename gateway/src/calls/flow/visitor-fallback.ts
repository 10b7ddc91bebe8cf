/**
 * What a visitor's call (a browser or a SIP visitor with a token) does when no
 * agent takes it (docs/flows.md, "when flows run"): a queue with `waiting`
 * puts the caller in the queue (an `enqueue`: hold music, announcements, and
 * the next free agent takes the call; the queue's own fallbacks follow), a
 * queue with `flows.noAnswer` runs that flow; otherwise, or when the queue has
 * voicemail and no `waiting` (voicemail answers then, docs/voicemail.md), the
 * call ends as before. A queue with both waits first; its longest wait runs
 * voicemail (the queue's fallback).
 * Trunk calls run their DID's flows and are left alone.
 */
import type { Config } from '../../config/index.js';
import type { FlowRef } from '../../flows/index.js';
import type { Logger } from '../../observability/index.js';
import type { CallManager } from '../call-manager.js';
import type { Call } from '../call.js';
import { outcomeOf } from '../ring-strategy.js';

export function visitorFallbacks(deps: {
  readonly config: Config;
  readonly calls: CallManager;
  readonly run: (call: Call, flow: string | FlowRef) => Promise<unknown>;
  readonly logger: Logger;
}): void {
  const log = deps.logger.child({ module: 'visitor-fallback' });
  deps.calls.onCall((call) => {
    if (!call.token) return;
    const queue = call.record.queue;
    const settings = queue ? deps.config.queues[queue] : undefined;
    if (!queue || !settings || (settings.voicemail && !settings.waiting)) return;
    const flow: string | FlowRef | undefined = settings.waiting
      ? { builtin: `queue.${queue}`, verbs: [{ verb: 'enqueue', queue }] }
      : settings.flows?.noAnswer;
    if (!flow) return;
    call.keepOnNoAgent();
    call.once('agentsExhausted', (reason) => {
      if (call.ending) return;
      log.info({ callId: call.id, queue, reason }, 'no agent took the call: its queue flow runs');
      deps.run(call, flow).catch((error: unknown) => {
        log.error({ err: error, callId: call.id }, 'the queue flow failed');
        if (!call.ending) call.end({ outcome: outcomeOf(reason), endedBy: 'gateway', reason });
      });
    });
  });
}
