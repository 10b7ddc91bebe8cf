/**
 * Queueing: callers wait in a queue when every agent is busy, and the
 * highest-value, longest-waiting caller gets the next free agent. This is
 * the `WaitingQueues` port of the `enqueue` verb: joining (refused when the
 * queue is closed, full or unstaffed), each caller's ticket (position,
 * estimated wait, offers), the longest wait, leaving at once on hang-up, and
 * which flow runs when a caller leaves without an agent (the chain in
 * `fallback.ts`, which visitors' calls follow too). The decisions are
 * the dispatcher's; the state is behind `QueueState`. In a cluster (Redis)
 * the state is shared and every change here is told to the other gateways
 * (`QueueChanges`), whose dispatchers then look at the queue again.
 */
import { EventEmitter } from 'node:events';
import type { CompiledBusinessHours } from '@parley/shared/screening';
import { UNAVAILABLE_TEXT } from '../flows/builtin.js';
import type {
  FlowRef,
  JoinRequest,
  JoinResult,
  TicketEnd,
  WaitingQueues,
  WaitingSettings,
} from '../flows/queue-port.js';
import type { Logger } from '../observability/index.js';
import { QueueDispatcher } from './dispatcher.js';
import {
  fallbackFlow,
  visitorFallback,
  type FallbackStatus,
  type VisitorFallback,
} from './fallback.js';
import { estimatedWaitSeconds } from './estimated-wait.js';
import type { QueueAgents, QueueChanges } from './ports.js';
import type { QueueState, WaitingEntry } from './queue-state.js';
import { Ticket } from './ticket.js';

/** A queue's waiting settings (config `queues.<name>.waiting`, defaults applied). */
export interface WaitingConfig {
  readonly maxWaitSeconds: number;
  readonly maxCallers: number;
  readonly music?:
    { readonly file?: string | undefined; readonly url?: string | undefined } | undefined;
  readonly toneHz: number;
  readonly announceEverySeconds: number;
  readonly announcement: string;
  readonly voice?: string | undefined;
  readonly unavailableText: string;
  readonly defaultHandleSeconds: number;
}

export const DEFAULT_WAITING: WaitingConfig = {
  maxWaitSeconds: 600,
  maxCallers: 100,
  toneHz: 440,
  announceEverySeconds: 60,
  announcement: 'You are number {position} in the queue. The wait is about {minutes}.',
  unavailableText: UNAVAILABLE_TEXT,
  defaultHandleSeconds: 180,
};

export interface QueueDefinition {
  readonly tenant: string;
  readonly ringTimeoutSeconds: number;
  /** Absent: callers of a busy queue are refused as before; an explicit `enqueue` still waits (defaults). */
  readonly waiting?: WaitingConfig | undefined;
  /** Flows run when a caller leaves without an agent (names in `flows`). */
  readonly flows?: {
    readonly noAnswer?: string | undefined;
    readonly closed?: string | undefined;
    readonly maxWait?: string | undefined;
  };
  readonly businessHours?: CompiledBusinessHours | undefined;
  /** The queue has voicemail: a caller it gives up on leaves a message (docs/voicemail.md). */
  readonly voicemail?: boolean | undefined;
  /** The tenant's default flow (`tenants.<id>.defaultFlow`): in place of the built-in apology. */
  readonly defaultFlow?: string | undefined;
}

/** An agent that let a caller ring out is not offered that caller again for this long. */
export const DECLINE_BACKOFF_MS = 30_000;

export interface QueueServiceEvents {
  /** After every change of a queue: its callers waiting, best first (the desk's view). */
  waiting: [queue: string, waiting: readonly WaitingEntry[], offered: number];
  /** A caller was offered to an agent, `decisionMs` after the change that made it possible. */
  offered: [entry: WaitingEntry, agentId: string, decisionMs: number];
  /** A caller is out of the queue: how, and after how long. */
  left: [queue: string, status: TicketEnd['status'], waitedMs: number];
}

export class QueueService extends EventEmitter<QueueServiceEvents> implements WaitingQueues {
  readonly #queues: ReadonlyMap<string, QueueDefinition>;
  readonly #state: QueueState;
  readonly #agents: QueueAgents;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #dispatcher: QueueDispatcher;
  readonly #tickets = new Map<string, Ticket>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #changes: QueueChanges | undefined;
  readonly #unsubscribe: () => void;
  readonly #unsubscribeChanges: () => void;
  #closed = false;

  constructor(deps: {
    queues: Readonly<Record<string, QueueDefinition>>;
    state: QueueState;
    agents: QueueAgents;
    logger: Logger;
    now?: () => number;
    /** The cluster's other gateways (with Redis); absent: this gateway alone. */
    changes?: QueueChanges | undefined;
  }) {
    super();
    this.#queues = new Map(Object.entries(deps.queues));
    this.#state = deps.state;
    this.#agents = deps.agents;
    this.#log = deps.logger.child({ module: 'queues' });
    this.#now = deps.now ?? Date.now;
    this.#dispatcher = new QueueDispatcher({
      state: deps.state,
      agents: deps.agents,
      logger: this.#log,
      now: this.#now,
      offer: (entry, agentId, ms) => void this.#offer(entry, agentId, ms),
      mine: (callId) => this.#tickets.has(callId),
      settled: (queue, waiting, offered, claimed) => {
        this.#settled(queue, waiting, offered);
        // An offer claimed here moved the others' callers up.
        if (claimed) this.#changes?.publish(queue);
      },
    });
    this.#changes = deps.changes;
    this.#unsubscribe = deps.agents.onAgentChange((_agentId, queues) => {
      for (const queue of queues) {
        if (!this.#queues.has(queue)) continue;
        // A turn later, and told after this gateway's own pass: the agent's
        // call releases its slot in Redis in the same turn as this change, so
        // the release goes out first and is ahead of the others' claims.
        setImmediate(() => {
          if (this.#closed) return;
          void this.#dispatcher.poke(queue).then(() => this.#changes?.publish(queue));
        });
      }
    });
    this.#unsubscribeChanges =
      deps.changes?.subscribe((queue) => {
        if (this.#queues.has(queue) && !this.#closed) void this.#dispatcher.poke(queue);
      }) ?? (() => undefined);
  }

  /** Whether callers of a busy `queue` wait (it has `waiting` settings) rather than being refused. */
  waitsWhenBusy(queue: string): boolean {
    return this.#queues.get(queue)?.waiting !== undefined;
  }

  settings(queue: string, tenant: string): WaitingSettings | undefined {
    const q = this.#queues.get(queue);
    if (!q || q.tenant !== tenant) return undefined;
    const w = q.waiting ?? DEFAULT_WAITING;
    return {
      queue,
      maxWaitSeconds: w.maxWaitSeconds,
      ringTimeoutSeconds: q.ringTimeoutSeconds,
      music: w.music,
      toneHz: w.toneHz,
      announceEverySeconds: w.announceEverySeconds,
      announcement: w.announcement,
      voice: w.voice,
    };
  }

  /** Whether `queue` takes calls at this moment (its `businessHours`; a queue without any always does). */
  isOpen(queue: string): boolean {
    const hours = this.#queues.get(queue)?.businessHours;
    return hours === undefined || hours.isOpen(this.#now());
  }

  async join(request: JoinRequest): Promise<JoinResult> {
    const q = this.#queues.get(request.queue);
    const context = request.context;
    if (this.#closed || !q || q.tenant !== context.tenant) return { ok: false, reason: 'unknown' };
    const now = this.#now();
    if (!this.isOpen(request.queue)) return { ok: false, reason: 'closed' };
    if (this.#agents.staffing(request.queue).agents === 0)
      return { ok: false, reason: 'no-agents' };
    const entry: WaitingEntry = {
      callId: context.callId,
      queue: request.queue,
      tenant: context.tenant,
      value: context.value?.value ?? 0,
      tier: context.value?.tier,
      joinedAt: now,
      caller: {
        channel: context.channel,
        from: context.from,
        sessionNumber: context.sessionNumber,
        customerId: context.customerId,
      },
    };
    const waiting = q.waiting ?? DEFAULT_WAITING;
    if (!(await this.#state.add(entry, waiting.maxCallers))) return { ok: false, reason: 'full' };
    const ticket = new Ticket(request, now, (t) => void this.#leave(t));
    this.#tickets.set(entry.callId, ticket);
    const timer = setTimeout(() => void this.#timeout(ticket), request.maxWaitSeconds * 1000);
    timer.unref();
    this.#timers.set(entry.callId, timer);
    this.#log.info(
      { callId: entry.callId, queue: request.queue, value: entry.value },
      'caller joined the queue',
    );
    this.#changes?.publish(request.queue);
    // The first pass gives the ticket its place (or an agent at once).
    await this.#dispatcher.poke(request.queue);
    return { ok: true, ticket };
  }

  dialFallback(queue: string, tenant: string, moreVerbs: boolean): FlowRef | undefined {
    const q = this.#queues.get(queue);
    if (!q?.voicemail || q.tenant !== tenant) return undefined;
    // A dial rings the queue's agents whatever the hours; closed, the caller hears the closed greeting.
    return this.fallback(queue, this.isOpen(queue) ? 'no-agents' : 'closed', moreVerbs);
  }

  fallback(queue: string, status: FallbackStatus, moreVerbs: boolean): FlowRef | undefined {
    return fallbackFlow(queue, this.#queues.get(queue), status, { moreVerbs, apology: true });
  }

  /** What a visitor's call to `queue` runs when no agent takes it (`fallback.ts`). */
  visitorFallback(queue: string): VisitorFallback | undefined {
    return visitorFallback(queue, this.#queues.get(queue), this.isOpen(queue));
  }

  /** Callers in `queue` now (waiting and being offered). */
  size(queue: string): Promise<number> {
    return this.#state.size(queue);
  }

  /** Agents being offered a caller now: a call's own ring strategy must skip them. */
  async offeredAgents(): Promise<ReadonlySet<string>> {
    return new Set((await this.#state.offers()).keys());
  }

  /**
   * Stops: every waiting caller's ticket ends as `failed` (the gateway is
   * going away) and leaves the (shared) state. Safe twice.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#unsubscribeChanges();
    for (const ticket of [...this.#tickets.values()]) {
      this.#finish(ticket, { status: 'failed', reason: 'gateway_shutdown' });
      void this.#state
        .remove(ticket.queue, ticket.callId)
        .then(() => this.#changes?.publish(ticket.queue));
    }
  }

  async #offer(entry: WaitingEntry, agentId: string, decisionMs: number): Promise<void> {
    const ticket = this.#tickets.get(entry.callId);
    if (!ticket || ticket.finished) {
      // The caller left as the offer was claimed: the agent is free again.
      await this.#state.remove(entry.queue, entry.callId);
      this.#changed(entry.queue);
      return;
    }
    this.emit('offered', entry, agentId, decisionMs);
    this.#log.info(
      { callId: entry.callId, queue: entry.queue, agent: agentId, decisionMs },
      'offering the caller',
    );
    ticket.offeredTo = agentId;
    ticket.position = 0;
    ticket.emit('offering', agentId);
    let attempt: Awaited<ReturnType<JoinRequest['offer']>>;
    try {
      attempt = await ticket.request.offer(agentId);
    } catch (error) {
      this.#log.warn({ err: error, callId: entry.callId, agent: agentId }, 'offer failed');
      attempt = { status: 'failed' };
    }
    ticket.offeredTo = undefined;
    if (attempt.status === 'answered') {
      await this.#state.remove(entry.queue, entry.callId);
      this.#finish(ticket, { status: 'bridged', agentId, bridge: attempt.bridge });
    } else if (ticket.finished) {
      await this.#state.remove(entry.queue, entry.callId);
    } else if (ticket.timedOut) {
      await this.#state.remove(entry.queue, entry.callId);
      this.#finish(ticket, { status: 'timeout' });
    } else {
      await this.#state.decline(entry.queue, entry.callId, this.#now() + DECLINE_BACKOFF_MS);
      // When the backoff ends, that agent may take the caller after all.
      setTimeout(() => void this.#dispatcher.poke(entry.queue), DECLINE_BACKOFF_MS + 1).unref();
      ticket.emit('declined', agentId);
    }
    this.#changed(entry.queue);
  }

  /** The caller hung up: out of the queue at once (its offer, if any, is cancelled by the call). */
  async #leave(ticket: Ticket): Promise<void> {
    this.#finish(ticket, { status: 'hangup' });
    await this.#state.remove(ticket.queue, ticket.callId);
    this.#changed(ticket.queue);
  }

  async #timeout(ticket: Ticket): Promise<void> {
    if (ticket.finished) return;
    if (ticket.offeredTo !== undefined) {
      ticket.timedOut = true; // ends when the offer does, unless that agent answers
      return;
    }
    this.#finish(ticket, { status: 'timeout' });
    await this.#state.remove(ticket.queue, ticket.callId);
    this.#changed(ticket.queue);
  }

  /** `queue` changed here: the other gateways are told, and this one's dispatcher looks again. */
  #changed(queue: string): void {
    this.#changes?.publish(queue);
    void this.#dispatcher.poke(queue);
  }

  #finish(ticket: Ticket, end: Parameters<Ticket['finish']>[0]): void {
    if (ticket.finished) return;
    clearTimeout(this.#timers.get(ticket.callId));
    this.#timers.delete(ticket.callId);
    this.#tickets.delete(ticket.callId);
    this.#log.info(
      { callId: ticket.callId, queue: ticket.queue, status: end.status },
      'caller left the queue',
    );
    ticket.finish(end);
    this.emit('left', ticket.queue, end.status, this.#now() - ticket.joinedAt);
  }

  #settled(queue: string, waiting: readonly WaitingEntry[], offered: number): void {
    const q = this.#queues.get(queue);
    const staffing = this.#agents.staffing(queue);
    const handle = (q?.waiting ?? DEFAULT_WAITING).defaultHandleSeconds;
    for (const [index, entry] of waiting.entries()) {
      const ticket = this.#tickets.get(entry.callId);
      ticket?.place(index + 1, estimatedWaitSeconds(index + 1, staffing, handle));
    }
    this.emit('waiting', queue, waiting, offered);
  }
}
