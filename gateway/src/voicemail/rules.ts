/**
 * When voicemail answers (docs/voicemail.md, "When voicemail answers"): the
 * rules that pick a call's box and hand the call to {@link Voicemails}.
 *
 * - A queue with `voicemail`: its calls stay up when no agent takes them
 *   (every candidate rang out, none is signed in) and voicemail answers (with
 *   `waiting`, once the caller waited the longest wait: the queue's fallback
 *   runs the `voicemail` verb, queues/queue-service.ts); outside the queue's
 *   `businessHours` no agent is rung at all and the caller hears `closedGreeting`
 *   (unless the queue names a `flows.closed`, which runs instead, as for a DID's `enqueue`).
 * - An agent with `voicemail`: a direct call to them (a flow's `dial` of the
 *   agent) they do not answer goes to their own box.
 */
import type { VoicemailResult } from '@parley/shared/protocol';
import type { CompiledBusinessHours } from '@parley/shared/screening';
import type { Call, CallManager } from '../calls/index.js';
import type { VoicemailSettings } from '../config/voicemail.js';
import type { LegMedia } from '../media/apps/index.js';
import type { VoicemailRequest } from '../flows/ports.js';
import type { Logger } from '../observability/index.js';
import type { VoicemailBox, Voicemails } from './voicemails.js';

/** A queue's voicemail as the rules need it. */
export interface QueueVoicemail {
  readonly tenant: string;
  readonly settings: VoicemailSettings;
  readonly hours?: CompiledBusinessHours | undefined;
  /** The queue has `waiting`: callers no agent took wait in it first (voicemail at the longest wait). */
  readonly waits: boolean;
  /** The queue names a `flows.closed`: outside business hours that flow runs instead (calls/flow/visitor-fallback.ts). */
  readonly closedFlow?: boolean | undefined;
}

export interface VoicemailRulesDeps {
  readonly calls: CallManager;
  readonly voicemails: Voicemails;
  readonly queue: (name: string) => QueueVoicemail | undefined;
  readonly agent: (id: string) => VoicemailSettings | undefined;
  readonly agentTenant: (id: string) => string | undefined;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * A flow's `voicemail` verb, and its `dial` of an agent who did not answer
 * (calls/flow/flow-call.ts): `media`, the flow's applications on the caller's leg.
 */
export type FlowVoicemail = (
  call: Call,
  box: VoicemailRequest,
  media: () => Promise<LegMedia>,
) => Promise<VoicemailResult>;

/** The settings for `cause`: the closed greeting outside business hours. */
export function settingsFor(
  settings: VoicemailSettings,
  cause: VoicemailBox['cause'],
): VoicemailSettings {
  return cause === 'closed' && settings.closedGreeting
    ? { ...settings, greeting: settings.closedGreeting }
    : settings;
}

/** Queue calls: voicemail when no agent takes them, or at once outside business hours. */
export function watchQueueCalls(deps: VoicemailRulesDeps): void {
  const log = deps.logger.child({ module: 'voicemail-rules' });
  deps.calls.onCall((call) => {
    const queue = call.record.queue;
    const q = queue ? deps.queue(queue) : undefined;
    if (!queue || !q) return;
    const closed = q.hours !== undefined && !q.hours.isOpen(deps.now());
    if (closed && q.closedFlow) return;
    if (closed) call.skipAgents('outside_business_hours');
    call.keepOnNoAgent();
    call.once('agentsExhausted', (reason) => {
      // A queue with `waiting`: the caller waits (calls/flow/visitor-fallback.ts); its longest wait runs voicemail.
      if (call.ending || (q.waits && !closed)) return;
      const cause = closed ? 'closed' : 'no-answer';
      log.info({ callId: call.id, queue, reason, cause }, 'no agent takes the call');
      deps.voicemails
        .answer(call, { queue, settings: settingsFor(q.settings, cause), cause })
        .catch((error: unknown) => {
          // The caller's answer could not be made: the call ends rather than hanging silent.
          log.error({ err: error, callId: call.id }, 'voicemail could not answer the call');
          call.end({
            outcome: 'failed',
            endedBy: 'gateway',
            reason: 'offer_required',
            status: 488,
          });
        });
    });
  });
}

/**
 * A flow's voicemail: a queue's box or an agent's own (a direct call the
 * agent did not answer). `unavailable` when the box has no voicemail.
 */
export function flowVoicemail(deps: VoicemailRulesDeps): FlowVoicemail {
  return async (call, box, media) => {
    if (call.ending) return { status: 'hangup' };
    if (box.agent !== undefined) {
      const settings = deps.agent(box.agent);
      if (!settings || deps.agentTenant(box.agent) !== call.tenant)
        return { status: 'unavailable' };
      // An agent's own box belongs to no queue: its queue's other agents do not see it.
      const own = { queue: '', agent: box.agent, settings, cause: box.cause };
      return deps.voicemails.answer(call, own, media);
    }
    const q = deps.queue(box.queue);
    if (!q || q.tenant !== call.tenant) return { status: 'unavailable' };
    const settings = settingsFor(q.settings, box.cause);
    return deps.voicemails.answer(call, { queue: box.queue, settings, cause: box.cause }, media);
  };
}
