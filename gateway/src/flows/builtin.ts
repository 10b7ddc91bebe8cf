/**
 * The flows Parley runs when nothing else is configured: what a caller hears
 * when a source fails with no fallback, or a queue gives up with no flow of
 * its own. Always a `say` and a `hangup` with the reason, so nobody hears
 * silence and a click.
 */
import type { FlowRef } from './queue-port.js';
import type { Verb } from './verbs/schema.js';

export const UNAVAILABLE_TEXT =
  'We are sorry, no one can take your call right now. Please try again later.';

export type BuiltinFlow = Extract<FlowRef, { builtin: string }>;

export function unavailableFlow(
  reason: string,
  text = UNAVAILABLE_TEXT,
  voice?: string,
): BuiltinFlow {
  const verbs: Verb[] = [
    { verb: 'say', text, voice, loop: 1, interruptible: false, actionHook: undefined },
    { verb: 'hangup', reason },
  ];
  return { builtin: 'parley.unavailable', verbs };
}

/** What a busy queue with `waiting` runs for a caller no agent is free for: wait in it. */
export function queueFlow(queue: string): BuiltinFlow {
  return { builtin: 'parley.queue', verbs: [{ verb: 'enqueue', queue, actionHook: undefined }] };
}

/**
 * What a queue with voicemail runs for a caller it gives up on (the longest
 * wait, outside business hours, no agent, full): a message in its box.
 */
export function voicemailFlow(
  queue: string,
  status: 'timeout' | 'closed' | 'full' | 'no-agents' | 'failed',
): BuiltinFlow {
  const cause = status === 'timeout' ? 'max-wait' : status === 'closed' ? 'closed' : 'no-answer';
  return { builtin: 'parley.voicemail', verbs: [{ verb: 'voicemail', queue, cause }] };
}
