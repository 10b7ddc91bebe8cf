/**
 * `gather`: keys from the caller. The optional prompt stops at the first key,
 * which counts as the first digit; then each key is awaited (no polling) with
 * `timeout` for the first and `interDigitTimeout` between the others.
 */
import type { VerbContext } from '../runtime/verb-context.js';
import { playAudio, sayAudio } from '../runtime/verb-context.js';
import { verbFailure } from '../runtime/verb-error.js';
import { playPrompt } from './prompt.js';
import type { GatherResult, VerbFailure } from './results.js';
import type { GatherVerb } from './schema.js';

export async function gather(verb: GatherVerb, ctx: VerbContext): Promise<GatherResult> {
  if (!ctx.typeAhead) ctx.digits.clear();
  await ctx.call.answer();
  let promptError: VerbFailure | undefined;
  if (verb.prompt) {
    const prompt = verb.prompt;
    try {
      const result = await playPrompt(
        ctx,
        () =>
          'say' in prompt
            ? sayAudio(ctx, prompt.say.text, prompt.say.voice)
            : playAudio(ctx, prompt.play),
        { loop: 'say' in prompt ? prompt.say.loop : prompt.play.loop, interruptible: true },
      );
      if (result.status === 'hangup') return { status: 'hangup', digits: '', finishedBy: 'hangup' };
    } catch (error) {
      // The caller may know the menu: read the keys anyway, and say what failed.
      promptError = verbFailure(error);
    }
  }
  const extra = promptError ? { promptError } : {};
  let digits = '';
  for (;;) {
    const wait = digits === '' ? verb.timeout : (verb.interDigitTimeout ?? verb.timeout);
    const digit = await ctx.digits.next(wait * 1000, ctx.signal);
    if (digit === undefined) {
      if (ctx.signal.aborted) return { status: 'hangup', digits, finishedBy: 'hangup', ...extra };
      return {
        status: digits === '' ? 'timeout' : 'completed',
        digits,
        finishedBy: 'timeout',
        ...extra,
      };
    }
    if (verb.finishOnKey !== '' && digit === verb.finishOnKey)
      return { status: 'completed', digits, finishedBy: 'finishOnKey', ...extra };
    digits += digit;
    if (verb.numDigits !== undefined && digits.length >= verb.numDigits)
      return { status: 'completed', digits, finishedBy: 'numDigits', ...extra };
  }
}
