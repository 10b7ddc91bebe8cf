/** Runs one verb (all but `redirect`, which the run handles) and gives its result. */
import type { VerbContext } from '../runtime/verb-context.js';
import { dial } from './dial.js';
import { enqueue } from './enqueue.js';
import { gate } from './gate.js';
import { gather } from './gather.js';
import { hangup } from './hangup.js';
import { pause } from './pause.js';
import { play } from './play.js';
import { record } from './record.js';
import type { VerbResult } from './results.js';
import { say } from './say.js';
import type { Verb } from './schema.js';
import { transcribe } from './transcribe.js';
import { voicemail } from './voicemail.js';

export function runVerb(
  verb: Exclude<Verb, { verb: 'redirect' }>,
  ctx: VerbContext,
): Promise<VerbResult> {
  switch (verb.verb) {
    case 'say':
      return say(verb, ctx);
    case 'play':
      return play(verb, ctx);
    case 'gather':
      return gather(verb, ctx);
    case 'record':
      return record(verb, ctx);
    case 'transcribe':
      return transcribe(verb, ctx);
    case 'dial':
      return dial(verb, ctx);
    case 'enqueue':
      return enqueue(verb, ctx);
    case 'pause':
      return pause(verb, ctx);
    case 'hangup':
      return hangup(verb, ctx);
    case 'voicemail':
      return voicemail(verb, ctx);
    case 'gate':
      return gate(verb, ctx);
  }
}
