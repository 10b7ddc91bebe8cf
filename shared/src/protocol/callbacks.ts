/**
 * Callbacks on the wire (docs/callbacks.md): what `POST /v1/callbacks`
 * answers, the progress events the widget reads from
 * `GET /v1/callbacks/<id>/events` (server-sent events), and what the agent's
 * desk is told about an accepted callback.
 */

/**
 * Where a callback is, as the customer's page shows it: waiting for its time
 * (`scheduled`), dialling the customer (`calling`), their phone rings
 * (`ringing`), waiting for their key (`prompting`), calling the advertiser
 * (`connecting`), talking (`connected`), over (`ended`, with an outcome).
 */
export const CALLBACK_PHASES = [
  'scheduled',
  'calling',
  'ringing',
  'prompting',
  'connecting',
  'connected',
  'ended',
] as const;
export type CallbackPhase = (typeof CALLBACK_PHASES)[number];

/** One progress event (`event: callback`, `data:` this JSON). */
export interface CallbackEvent {
  readonly type: 'callback';
  readonly id: string;
  readonly phase: CallbackPhase;
  /** The attempt in progress or last made (0 before the first). */
  readonly attempt: number;
  /** When it runs (next): the slot, the retry (ISO); null while running or when over. */
  readonly dueAt: string | null;
  /** How it ended: `completed`, `declined`, `no_key`, `no_answer`, `busy`, … */
  readonly outcome: string | null;
  /** The registry code of a failure (the widget shows its human message). */
  readonly code: string | null;
  readonly at: string;
}

/** `POST /v1/callbacks` → 201. */
export interface CallbackCreated {
  readonly id: string;
  readonly phase: CallbackPhase;
  readonly dueAt: string;
  /** The progress stream of this callback (server-sent events), its key in the query. */
  readonly events: string;
}

/** What the desk shows about a call that is an accepted callback. */
export interface CallbackContext {
  readonly id: string;
  /** The queue name or `listing.<id>`. */
  readonly destination: string;
  readonly listingId: string | null;
  readonly listingTitle: string | null;
  /** The page the customer asked from. */
  readonly page: string | null;
  readonly phone: string;
  /** The key that accepted it (`1`) and when (ISO). */
  readonly key: string | null;
  readonly acceptedAt: string | null;
  readonly askedAt: string;
  readonly attempt: number;
}

/**
 * A callback as the desks of its destination follow it live (`DeskEvent`
 * `callback`, docs/callbacks.md "On the desk"): the queue's agents (or the
 * agent it targets) and any agent it rings. One frame per phase, in order.
 */
export interface DeskCallbackView {
  readonly id: string;
  readonly phase: CallbackPhase;
  /** The attempt in progress or last made. */
  readonly attempt: number;
  /** How it ended (`completed`, `declined`, `no_key`, `no_answer`, `busy`, …), once `ended`. */
  readonly outcome: string | null;
  readonly code: string | null;
  /** The queue name or `listing.<id>`. */
  readonly destination: string;
  readonly listingId: string | null;
  /** Who the prompt named (the listing's advertiser or the queue's name). */
  readonly advertiserName: string;
  /** The page the customer asked from. */
  readonly page: string | null;
  /** The customer's number, masked (`maskPhone`): the desk needs to recognise it, not to dial it. */
  readonly phone: string;
  /** The key the customer pressed in this attempt (`1` accepts, `2` declines) and when (ISO). */
  readonly key: string | null;
  readonly keyAt: string | null;
  /** The agent being rung for it (`connecting`) or talking to the customer (`connected`). */
  readonly agentId: string | null;
  /** The token's private claims (customer id, name), as a ringing call shows them. */
  readonly privateClaims: Readonly<Record<string, unknown>>;
  readonly at: string;
}

/**
 * A phone number as desks show it when they need not dial it: `+`, the first
 * two digits, the last three, the rest as `•` (`+14155550123` → `+14••••••123`).
 * Anything shorter than 7 digits keeps only its last two.
 */
export function maskPhone(phone: string): string {
  const plus = phone.startsWith('+') ? '+' : '';
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 7)
    return plus + '•'.repeat(Math.max(0, digits.length - 2)) + digits.slice(-2);
  return plus + digits.slice(0, 2) + '•'.repeat(digits.length - 5) + digits.slice(-3);
}
