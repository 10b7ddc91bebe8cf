/**
 * When voicemail answers (docs/voicemail.md, "When voicemail answers"): the
 * rules that pick a call's box and hand the call to {@link Voicemails}.
 *
 * - A queue with `voicemail`: its calls stay up when no agent takes them
 *   (every candidate rang out, none is signed in) and voicemail answers;
 *   outside the queue's `businessHours` no agent is rung at all and the
 *   caller hears `closedGreeting`.
 * - An agent with `voicemail`: a direct call to them (a flow's `dial` of the
 *   agent) they do not answer goes to their own box.
 */
import type { CompiledBusinessHours } from '@parley/shared/screening';
import type { Call, CallManager } from '../calls/index.js';
import type { VoicemailSettings } from '../config/voicemail.js';
import type { LegMedia } from '../media/apps/index.js';
import type { Logger } from '../observability/index.js';
import type { VoicemailBox, Voicemails } from './voicemails.js';

/** A queue's voicemail as the rules need it. */
export interface QueueVoicemail {
  readonly settings: VoicemailSettings;
  readonly hours?: CompiledBusinessHours | undefined;
}

export interface VoicemailRulesDeps {
  readonly calls: CallManager;
  readonly voicemails: Voicemails;
  readonly queue: (name: string) => QueueVoicemail | undefined;
  readonly agent: (id: string) => VoicemailSettings | undefined;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * What a flow's `dial` of an agent calls when the agent did not answer
 * (calls/flow/flow-call.ts): `media`, the flow's applications on the caller's leg.
 */
export type AgentVoicemail = (
  call: Call,
  agentId: string,
  media: () => Promise<LegMedia>,
) => Promise<boolean> | undefined;

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
    if (closed) call.skipAgents('outside_business_hours');
    call.keepOnNoAgent();
    call.once('agentsExhausted', (reason) => {
      if (call.ending) return;
      const cause = closed ? 'closed' : 'no-answer';
      log.info({ callId: call.id, queue, reason, cause }, 'no agent takes the call');
      void deps.voicemails.answer(call, {
        queue,
        settings: settingsFor(q.settings, cause),
        cause,
      });
    });
  });
}

/** Direct calls to an agent with `voicemail`: their own box when they did not answer. */
export function agentVoicemail(deps: VoicemailRulesDeps): AgentVoicemail {
  return (call, agentId, media) => {
    const settings = deps.agent(agentId);
    if (!settings || call.ending) return undefined;
    // An agent's own box belongs to no queue: its queue's other agents do not see it.
    return deps.voicemails.answer(
      call,
      { queue: '', agent: agentId, settings, cause: 'no-answer' },
      media,
    );
  };
}
