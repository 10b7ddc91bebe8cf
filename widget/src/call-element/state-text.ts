import type { QueueStatus } from '@parley/shared/protocol';
import type { CallState } from '../api/call-state.js';

/** What the status line says in each state (the live region announces it). */
export function statusText(
  state: CallState,
  human?: string,
  held = false,
  queue?: QueueStatus,
  voicemail = false,
): string {
  switch (state) {
    case 'idle':
      return '';
    case 'permission':
      return 'Please allow microphone access to start the call.';
    case 'connecting':
      return 'Connecting your call…';
    case 'ringing':
      return 'Ringing…';
    case 'in-call':
      if (voicemail) return 'Nobody could answer: leave a message after the tone, or type it.';
      if (queue) return queueText(queue);
      return held
        ? 'On hold. The agent will be back with you shortly.'
        : 'Connected. You can speak now.';
    case 'reconnecting':
      return 'Reconnecting…';
    case 'ended':
      return 'Call ended.';
    case 'error':
      return human ?? 'The call could not be connected. Please try again.';
  }
}

/** `m:ss`, or `h:mm:ss` past an hour. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Names a screen reader says for the keys that have none of their own. */
export function digitLabel(digit: string): string {
  return digit === '*' ? 'star' : digit === '#' ? 'hash' : digit;
}

/**
 * The visitor's place in a queue: "You are number 3 in the queue, about 4
 * minutes." (the minutes rounded up; left out when there is no estimate).
 */
export function queueText(queue: QueueStatus): string {
  if (queue.state === 'connecting') return 'An agent is taking your call…';
  const place = `You are number ${queue.position ?? 1} in the queue`;
  const seconds = queue.estimatedWaitSeconds;
  if (seconds === null || seconds === undefined) return `${place}.`;
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return `${place}, about ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`;
}
