/**
 * `voicemail`: the caller leaves a message in a queue's or an agent's box
 * (docs/voicemail.md); the call's adapter runs it (`FlowCall.voicemail`).
 */
import { ParleyError } from '@parley/shared/errors';
import type { VerbContext } from '../runtime/verb-context.js';
import type { VoicemailResult } from './results.js';
import type { VoicemailVerb } from './schema.js';

export async function voicemail(verb: VoicemailVerb, ctx: VerbContext): Promise<VoicemailResult> {
  if ((verb.queue === undefined) === (verb.agent === undefined))
    throw new ParleyError('verb_failed', 'voicemail needs exactly one of queue and agent');
  if (!ctx.call.voicemail)
    throw new ParleyError('verb_failed', 'this call cannot leave a voicemail');
  if (ctx.signal.aborted) return { status: 'hangup' };
  return ctx.call.voicemail(
    verb.agent === undefined
      ? { queue: verb.queue ?? '', cause: verb.cause }
      : { agent: verb.agent, cause: verb.cause },
  );
}
