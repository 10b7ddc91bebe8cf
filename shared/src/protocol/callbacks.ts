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
