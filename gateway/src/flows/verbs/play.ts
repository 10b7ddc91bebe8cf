import type { VerbContext } from '../runtime/verb-context.js';
import { playAudio } from '../runtime/verb-context.js';
import { playPrompt } from './prompt.js';
import type { PromptResult } from './results.js';
import type { PlayVerb } from './schema.js';

/** `play`: a WAV file under `prompts.dirs` or a URL under `prompts.urls`. */
export function play(verb: PlayVerb, ctx: VerbContext): Promise<PromptResult> {
  return playPrompt(ctx, () => playAudio(ctx, verb), verb);
}
