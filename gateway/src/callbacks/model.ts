/**
 * A callback (S5): the customer asked to be called back; the gateway calls
 * them first, plays the acceptance prompt, and only after "1" calls the
 * advertiser, bridges them and charges the fee.
 *
 *   scheduled ──▶ calling ──▶ prompting ──▶ connecting ──▶ connected ──▶ ended
 *       ▲            │            │              │              (completed)
 *       └── retry ───┘            └──────────────┴──▶ ended (declined, no_key,
 *        (busy, no answer)                              advertiser_unavailable…)
 *
 * Every state change is written before the step it allows is taken (the
 * INVITE to the customer leaves only after `calling` and the attempt are
 * stored), so a crash never places a callback twice: at the next start one in
 * progress is `interrupted`.
 */
import type { StoredDialog } from '../storage/index.js';
import type { StoredInvite } from '../calls/index.js';

export type CallbackState =
  'scheduled' | 'calling' | 'prompting' | 'connecting' | 'connected' | 'ended';

/** How a callback ended. */
export type CallbackOutcome =
  /** Customer and advertiser talked. */
  | 'completed'
  /** The customer pressed 2 (or hung up during the prompt). */
  | 'declined'
  /** The customer answered but pressed no key (an answering machine, nobody there). */
  | 'no_key'
  /** The customer did not answer, every attempt. */
  | 'no_answer'
  /** The customer's line was busy, every attempt. */
  | 'busy'
  /** The customer leg could not be placed (trunk down, number refused by the network). */
  | 'failed'
  /** The advertiser did not answer (busy, no answer, no agent). */
  | 'advertiser_unavailable'
  /** The advertiser cannot pay the fee: not called; the customer heard an apology. */
  | 'advertiser_cannot_pay'
  /** "When an agent is free" waited longer than agentFreeMaxWaitSeconds. */
  | 'expired'
  /** Cancelled through the API or by the visitor before it ran. */
  | 'cancelled'
  /** The gateway stopped while it was in progress; not placed again. */
  | 'interrupted';

/** When the customer wants the call. */
export type CallbackMode = 'now' | 'slot' | 'agent-free';

/** Where the advertiser is reached. */
export type AdvertiserTarget =
  | { readonly kind: 'queue'; readonly queue: string }
  | { readonly kind: 'agent'; readonly agent: string }
  | { readonly kind: 'number'; readonly number: string; readonly trunk?: string | undefined };

/** One leg's story in an attempt. */
export interface LegRecord {
  /** The SIP Call-ID of the leg. */
  readonly callId: string | null;
  /** Who: the customer's number, `agent:<id>`, or the advertiser's number. */
  readonly party: string;
  readonly dialledAt: number;
  readonly ringingAt: number | null;
  readonly answeredAt: number | null;
  readonly endedAt: number | null;
  /** The final status of a leg that was not answered (486, 480…), else null. */
  readonly status: number | null;
  /** `answered`, `busy`, `no_answer`, `failed`, `cancelled`, … */
  readonly result: string | null;
}

export interface CallbackAttempt {
  readonly n: number;
  readonly startedAt: number;
  readonly customer: LegRecord;
  /** When the acceptance prompt started. */
  readonly promptAt: number | null;
  /** The key pressed (first one) and when, and how it came (`rfc4733`, `info`). */
  readonly key: string | null;
  readonly keyAt: number | null;
  readonly keySource: 'rfc4733' | 'info' | null;
  /** Advertiser legs rung after a "1" (several agents of a queue, one after another). */
  readonly advertiser: readonly LegRecord[];
  readonly bridgedAt: number | null;
  readonly endedAt: number | null;
  /** What this attempt came to (`busy`, `no_answer`, `declined`, `completed`…). */
  readonly outcome: string | null;
}

export interface CallbackRecord {
  readonly id: string;
  readonly tenant: string;
  /** A queue name or `listing.<id>`. */
  readonly destination: string;
  readonly listingId: string | null;
  readonly advertiserId: string | null;
  /** Who the prompt names. */
  readonly advertiserName: string;
  readonly target: AdvertiserTarget;
  /** The customer's number (E.164). */
  readonly phone: string;
  /** Caller ID toward the customer: the listing's or the queue's number. */
  readonly callerNumber: string;
  readonly sessionId: string;
  readonly origin: string;
  /** The page the request came from, as the widget said (informational). */
  readonly page: string | null;
  readonly impressionId: string | null;
  /** The request token's jti: a token is used once. */
  readonly tokenId: string;
  readonly mode: CallbackMode;
  /** When it runs next (a slot, a retry); for agent-free, when it was asked. */
  readonly dueAt: number;
  /** agent-free: when waiting gives up. */
  readonly expiresAt: number | null;
  readonly state: CallbackState;
  readonly outcome: CallbackOutcome | null;
  /** The registry code of a failure outcome, for the widget and the API. */
  readonly code: string | null;
  /** The fee in minor units (0: none). */
  readonly feeCents: number;
  readonly currency: string;
  /** When the advertiser leg answered (the connection the fee is for). */
  readonly connectedAt: number | null;
  readonly chargedAt: number | null;
  /** The ledger transaction's idempotency key (`callback:<id>`) once charged. */
  readonly chargeKey: string | null;
  readonly chargeTransactionId: number | null;
  readonly attempts: readonly CallbackAttempt[];
  /**
   * The answered legs' dialogs of the attempt in progress, so that a start
   * after a crash can still send them a BYE (`calls/interrupted.ts`).
   */
  readonly dialogs: readonly StoredDialog[];
  /**
   * The advertiser's INVITEs of the attempt in progress that ring and are not
   * answered yet, so that a start after a crash can CANCEL them
   * (`calls/interrupted-invites.ts`).
   */
  readonly ringing: readonly StoredInvite[];
  /** The token's private claims the desk shows (customer id, name). */
  readonly privateClaims: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly endedAt: number | null;
}

/** The callbacks' ledger key: one charge per callback, whatever retries or restarts happen. */
export const chargeKey = (callbackId: string) => `callback:${callbackId}`;
