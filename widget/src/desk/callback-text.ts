/**
 * What the desk says about a callback it follows live (`callback` frames):
 * one line for where it is, no DOM, so it is unit-tested.
 */
import type { DeskCallbackView } from '@parley/shared/protocol';

const OUTCOMES: Readonly<Record<string, string>> = {
  completed: 'completed',
  declined: 'declined by the customer',
  no_key: 'no key pressed',
  no_answer: 'the customer did not answer',
  busy: 'the customer was busy',
  failed: 'the customer could not be called',
  advertiser_unavailable: 'no agent answered',
  advertiser_cannot_pay: 'the advertiser cannot pay',
  expired: 'expired waiting for an agent',
  cancelled: 'cancelled',
  interrupted: 'interrupted by a gateway restart',
};

/** "Calling the customer", "Pressed 1: ringing agent1", "Ended: declined by the customer (pressed 2)"… */
export function callbackPhaseText(view: DeskCallbackView): string {
  const pressed = view.key !== null ? `pressed ${view.key}` : undefined;
  switch (view.phase) {
    case 'scheduled':
      return view.outcome
        ? `Will try again (${OUTCOMES[view.outcome] ?? view.outcome})`
        : 'Scheduled';
    case 'calling':
      return 'Calling the customer';
    case 'ringing':
      return "The customer's phone is ringing";
    case 'prompting':
      return 'The customer is hearing the prompt';
    case 'connecting':
      return `Accepted (${pressed ?? 'key'}): ${view.agentId ? `ringing ${view.agentId}` : 'calling the advertiser'}`;
    case 'connected':
      return `Connected${view.agentId ? ` to ${view.agentId}` : ''}`;
    case 'ended': {
      const outcome = view.outcome ? (OUTCOMES[view.outcome] ?? view.outcome) : 'ended';
      return `Ended: ${outcome}${pressed && view.outcome !== 'completed' ? ` (${pressed})` : ''}`;
    }
  }
}

/** Who and where from: "Ada · +14••••••123 · /plumbers". */
export function callbackWhoText(view: DeskCallbackView): string {
  const name = view.privateClaims['name'];
  return [typeof name === 'string' ? name : undefined, view.phone, view.page ?? undefined]
    .filter((part): part is string => typeof part === 'string' && part !== '')
    .join(' · ');
}
