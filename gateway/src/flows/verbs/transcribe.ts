import type { VerbContext } from '../runtime/verb-context.js';
import type { TranscribeResult } from './results.js';
import type { TranscribeVerb } from './schema.js';

/**
 * `transcribe`: starts (or, with `stop`, stops) streaming speech to text on
 * the caller's leg. It runs in the background while the next verbs do;
 * results come as `transcript.partial` / `transcript.final` events.
 */
export async function transcribe(
  verb: TranscribeVerb,
  ctx: VerbContext,
): Promise<TranscribeResult> {
  if (verb.stop) return ctx.transcription.stop();
  await ctx.call.answer();
  return ctx.transcription.start({ language: verb.language, partialResults: verb.partialResults });
}
