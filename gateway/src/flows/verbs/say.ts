import type { VerbContext } from '../runtime/verb-context.js';
import { sayAudio } from '../runtime/verb-context.js';
import { playPrompt } from './prompt.js';
import type { PromptResult } from './results.js';
import type { SayVerb } from './schema.js';

/** `say`: text to speech (flite, cached by text and voice). */
export function say(verb: SayVerb, ctx: VerbContext): Promise<PromptResult> {
  return playPrompt(ctx, () => sayAudio(ctx, verb.text, verb.voice), verb);
}
