/**
 * What the visitor reads about a callback request, per phase (the status
 * line of `<parley-callback>`, a polite live region). Failures read the error
 * registry's human message for their code.
 */
import { humanMessage } from '@parley/shared/errors';
import type { CallbackPhase } from '@parley/shared/protocol';

/** Where the form is: `form` (not asked yet), `sending`, a gateway phase, or `refused`. */
export type CallbackViewPhase = 'form' | 'sending' | 'refused' | CallbackPhase;

export interface CallbackStatus {
  readonly phase: CallbackViewPhase;
  /** `now`, `agent-free` or an ISO time (what was asked). */
  readonly when?: string;
  /** The next run (a slot or a retry), ISO. */
  readonly dueAt?: string | null;
  readonly attempt?: number;
  readonly outcome?: string | null;
  readonly code?: string | null;
}

/** True once nothing more will happen (the form may be used again). */
export function isOver(phase: CallbackViewPhase): boolean {
  return phase === 'form' || phase === 'refused' || phase === 'ended';
}

export function callbackStatusText(s: CallbackStatus, formatTime = defaultTime): string {
  switch (s.phase) {
    case 'form':
      return '';
    case 'sending':
      return 'Asking for your callback…';
    case 'refused':
      return humanMessage(s.code ?? 'internal');
    case 'scheduled':
      if ((s.attempt ?? 0) > 0 && s.dueAt)
        return `We could not reach you. We will try again at ${formatTime(s.dueAt)}.`;
      if (s.when === 'agent-free') return 'We will call you as soon as someone is free.';
      if (s.dueAt && s.when !== 'now') return `We will call you at ${formatTime(s.dueAt)}.`;
      return 'We will call you in a moment.';
    case 'calling':
      return 'Calling you now…';
    case 'ringing':
      return 'Your phone is ringing.';
    case 'prompting':
      return 'Answer, then press 1 to be connected.';
    case 'connecting':
      return 'Connecting you…';
    case 'connected':
      return 'Connected. Talk on your phone.';
    case 'ended':
      if (s.outcome === 'completed') return 'The call is over. Thank you!';
      return s.code ? humanMessage(s.code) : 'The callback ended.';
  }
}

function defaultTime(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime())
    ? iso
    : at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
