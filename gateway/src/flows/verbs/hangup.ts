import type { VerbContext } from '../runtime/verb-context.js';
import type { HangupResult } from './results.js';
import type { HangupVerb } from './schema.js';

/** `hangup`: ends the call with a reason (before the answer, TwiML's <Reject>). */
export async function hangup(verb: HangupVerb, ctx: VerbContext): Promise<HangupResult> {
  if (!ctx.signal.aborted) await ctx.call.hangup(verb.reason);
  return { status: 'completed', reason: verb.reason };
}
