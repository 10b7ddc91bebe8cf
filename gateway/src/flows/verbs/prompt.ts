/**
 * `say` and `play`: audio on the caller's leg, looped, stopped by a key when
 * asked. The key that stops it stays in the key stream for a `gather` after
 * it (type-ahead); a key already typed ahead skips the prompt at once.
 */
import type { Audio, Digit } from '../ports.js';
import { linkedAbort } from '../runtime/linked-abort.js';
import type { VerbContext } from '../runtime/verb-context.js';
import type { PromptResult } from './results.js';

/** loop 0 ("until interrupted") still ends some day. */
const ENDLESS = 10_000;

export interface PromptOptions {
  readonly loop: number;
  /** true: any key; a string: those keys; false: none. */
  readonly interruptible: boolean | string;
}

const stops = (interruptible: boolean | string, digit: Digit): boolean =>
  interruptible === true || (typeof interruptible === 'string' && interruptible.includes(digit));

export async function playPrompt(
  ctx: VerbContext,
  audio: () => Promise<Audio>,
  options: PromptOptions,
): Promise<PromptResult> {
  if (options.interruptible !== false) {
    const typed = ctx.digits.buffered.find((d) => stops(options.interruptible, d));
    if (typed !== undefined) return { status: 'interrupted', key: typed, plays: 0 };
  }
  const sound = await audio();
  await ctx.call.answer();
  // Linked, not listened to: the caller may have hung up while the audio was made.
  const interrupt = linkedAbort(ctx.signal);
  const signal = interrupt.signal;
  let key: Digit | undefined;
  const unsubscribe =
    options.interruptible === false
      ? () => undefined
      : ctx.digits.onKey((digit) => {
          if (key === undefined && stops(options.interruptible, digit)) {
            key = digit;
            interrupt.abort();
          }
        });
  let plays = 0;
  try {
    const times = options.loop === 0 ? ENDLESS : options.loop;
    while (plays < times && !signal.aborted) {
      plays += 1;
      await ctx.call.play(sound, { signal });
    }
  } finally {
    unsubscribe();
    interrupt.dispose();
  }
  if (ctx.signal.aborted) return { status: 'hangup', plays };
  return key === undefined ? { status: 'completed', plays } : { status: 'interrupted', key, plays };
}
