import type { VerbContext } from '../runtime/verb-context.js';
import { sleep } from '../runtime/verb-context.js';
import type { PauseResult } from './results.js';
import type { PauseVerb } from './schema.js';

/**
 * `pause`: silence. Like TwiML, it does not answer the call: as the first
 * verb it delays the answer (the caller hears ringing).
 */
export async function pause(verb: PauseVerb, ctx: VerbContext): Promise<PauseResult> {
  await sleep(verb.length * 1000, ctx.signal);
  return { status: ctx.signal.aborted ? 'hangup' : 'completed' };
}
