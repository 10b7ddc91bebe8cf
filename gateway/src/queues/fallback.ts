/**
 * Which flow runs when a caller gets no agent from a queue: one chain for
 * every way in (docs/flows.md, "Where flows run"), so that a DID caller's
 * `enqueue`, a `dial` of the queue and a visitor's call (browser or SIP, with
 * a token) cannot drift apart:
 *
 * 1. the queue's flow named for the case (`flows.maxWait`, `flows.closed`,
 *    `flows.noAnswer`);
 * 2. with verbs left after the `enqueue`, nothing: the flow goes on (TwiML's way);
 * 3. the queue's voicemail (docs/voicemail.md);
 * 4. the tenant's `defaultFlow`;
 * 5. the built-in apology, a `say` and a `hangup` with the reason (for a
 *    visitor's open queue: nothing, the call ends 480 as it always did).
 */
import { queueFlow, unavailableFlow, UNAVAILABLE_TEXT, voicemailFlow } from '../flows/builtin.js';
import type { FlowRef } from '../flows/queue-port.js';
import type { EnqueueResult } from '../flows/verbs/results.js';
import type { QueueDefinition } from './queue-service.js';

/** Why a caller left the queue without an agent (an `enqueue`'s result status). */
export type FallbackStatus = Exclude<EnqueueResult['status'], 'bridged' | 'hangup'>;

export interface FallbackOptions {
  /** Verbs follow the `enqueue`: only a flow named for the case runs. */
  readonly moreVerbs: boolean;
  /** The chain ends in the built-in apology; false: in nothing. */
  readonly apology: boolean;
}

/** The chain above for `queue` (its definition `q`; undefined: no such queue, the apology). */
export function fallbackFlow(
  queue: string,
  q: QueueDefinition | undefined,
  status: FallbackStatus,
  options: FallbackOptions,
): FlowRef | undefined {
  const flows = q?.flows ?? {};
  const named =
    status === 'timeout' ? flows.maxWait : status === 'closed' ? flows.closed : flows.noAnswer;
  if (named !== undefined) return { flow: named };
  if (options.moreVerbs) return undefined;
  if (q?.voicemail) return voicemailFlow(queue, status);
  if (q?.defaultFlow !== undefined) return { flow: q.defaultFlow };
  if (!options.apology) return undefined;
  return unavailableFlow(
    REASONS[status],
    q?.waiting?.unavailableText ?? UNAVAILABLE_TEXT,
    q?.waiting?.voice,
  );
}

const REASONS: Record<FallbackStatus, string> = {
  timeout: 'queue_timeout',
  closed: 'outside_business_hours',
  full: 'queue_full',
  'no-agents': 'no_agent_available',
  failed: 'no_agent_available',
};

/** What a visitor's call runs when no agent takes it; `closed`: no agent is even rung. */
export interface VisitorFallback {
  readonly flow: FlowRef;
  readonly closed: boolean;
}

/**
 * The flow a visitor's call to `queue` runs when no agent takes it, decided
 * when the call starts (as voicemail's rules are): closed, the chain for
 * `closed`; open, a queue with `waiting` puts the caller in it (an
 * `enqueue`, whose own fallbacks follow), else the chain for `no-agents`
 * without the apology. Undefined: not the queue's flows (no such queue,
 * voicemail/rules.ts answers, or the call ends as before).
 */
export function visitorFallback(
  queue: string,
  q: QueueDefinition | undefined,
  open: boolean,
): VisitorFallback | undefined {
  if (!q) return undefined;
  if (!open) {
    // The queue's voicemail answers with its closed greeting unless a closed flow is named.
    if (q.voicemail && q.flows?.closed === undefined) return undefined;
    const flow = fallbackFlow(queue, q, 'closed', { moreVerbs: false, apology: true });
    return flow ? { flow, closed: true } : undefined;
  }
  // Voicemail answers a queue without `waiting` (before any tenant default).
  if (q.voicemail && !q.waiting) return undefined;
  if (q.waiting) return { flow: queueFlow(queue), closed: false };
  const flow = fallbackFlow(queue, q, 'no-agents', { moreVerbs: false, apology: false });
  return flow ? { flow, closed: false } : undefined;
}
