/**
 * What the `enqueue` verb needs from queueing (`gateway/src/queues/`
 * implements it): a queue's waiting settings, joining it, and the ticket of a
 * waiting caller. The verb makes the waiting experience (music, position
 * announcements, the widget's queue status); the queue decides who gets the
 * next free agent and offers the caller to it through `JoinRequest.offer`.
 */
import type { EventEmitter } from 'node:events';
import type { EnqueueResult } from './verbs/results.js';
import type { Bridge, DialAttempt, FlowCallContext } from './ports.js';
import type { AudioRef } from './runtime/prompts.js';
import type { Verb } from './verbs/schema.js';

export interface WaitingSettings {
  readonly queue: string;
  readonly maxWaitSeconds: number;
  /** How long an agent offered a caller rings. */
  readonly ringTimeoutSeconds: number;
  /** A WAV file or URL looped while waiting; without one, the built-in tone at `toneHz`. */
  readonly music: AudioRef | undefined;
  readonly toneHz: number;
  /** Position and wait are said this often (0: only when joining). */
  readonly announceEverySeconds: number;
  /** `{position}` and `{minutes}` are filled in; `{minutes}` sentences are left out without an estimate. */
  readonly announcement: string;
  readonly voice: string | undefined;
}

/** Why a caller could not join. */
export type JoinRefusal = 'full' | 'closed' | 'no-agents' | 'unknown';

export interface QueueTicketEvents {
  /** The caller's place changed (or the estimate did): 1 is next. */
  position: [position: number, estimatedWaitSeconds: number | null];
  /** A free agent is being rung for the caller. */
  offering: [agentId: string];
  /** The agent did not take it: the caller is back in its place (a `position` event follows). */
  declined: [agentId: string];
}

export type TicketEnd =
  | { readonly status: 'bridged'; readonly agentId: string; readonly bridge: Bridge }
  | { readonly status: 'timeout' | 'hangup' | 'failed'; readonly reason?: string };

/** A caller waiting in a queue. */
export interface QueueTicket extends EventEmitter<QueueTicketEvents> {
  readonly queue: string;
  /** 1 is next; 0 while the caller is being offered to an agent. */
  readonly position: number;
  readonly estimatedWaitSeconds: number | null;
  /** The agent being rung for the caller now, if any. */
  readonly offeredTo: string | undefined;
  /** Settles once, when the caller is out of the queue. */
  readonly done: Promise<TicketEnd>;
  /** The caller leaves now (hung up): never offered again. Safe twice. */
  leave(reason: 'hangup'): void;
}

export interface JoinRequest {
  readonly queue: string;
  readonly context: FlowCallContext;
  /** The caller's longest wait. */
  readonly maxWaitSeconds: number;
  /**
   * Rings `agentId` for this caller (the queue calls it when it has chosen
   * the agent); answered: the caller is bridged to the agent.
   */
  offer(agentId: string): Promise<DialAttempt>;
}

export type JoinResult =
  | { readonly ok: true; readonly ticket: QueueTicket }
  | { readonly ok: false; readonly reason: JoinRefusal };

/** A flow to run: one of `flows` by name, or built-in verbs. */
export type FlowRef =
  { readonly flow: string } | { readonly builtin: string; readonly verbs: readonly Verb[] };

export interface WaitingQueues {
  /** The queue's waiting settings; undefined for a queue that does not exist in the tenant. */
  settings(queue: string, tenant: string): WaitingSettings | undefined;
  join(request: JoinRequest): Promise<JoinResult>;
  /**
   * What runs when a caller leaves `queue` without an agent: the queue's flow
   * for that case; else (no verbs left) its voicemail, the tenant's default
   * flow, or the built-in say-and-hang-up. Undefined: go on with the flow's
   * next verb (the flow handles it, TwiML's way).
   */
  fallback(
    queue: string,
    status: Exclude<EnqueueResult['status'], 'bridged' | 'hangup'>,
    moreVerbs: boolean,
  ): FlowRef | undefined;
  /**
   * What runs when a `dial` of `queue` (of `tenant`) found no agent to take
   * the call: for a queue with voicemail, what an `enqueue` would run (the
   * queue's `flows.noAnswer`/`flows.closed`, else its box), unless verbs
   * follow. Undefined: the flow goes on (a queue without voicemail, as before).
   */
  dialFallback(queue: string, tenant: string, moreVerbs: boolean): FlowRef | undefined;
}
