/**
 * The stored record of one call, and the call's state machine that it holds:
 *
 *   routing ──▶ ringing ──▶ answered ──▶ ended
 *      │           │                      ▲
 *      └───────────┴──────────────────────┘  (no agent, cancel, failure)
 *
 * An illegal transition is refused (and logged), never applied. The record is
 * written when the call is admitted, when it is answered, when an answered
 * leg's dialog changes (so a restart can still end it, see `interrupted.ts`)
 * and when it ends; while it rings, the live record is served from memory
 * (/v1 reads the call manager first).
 */
import type { MediaTransport } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import { clientOf, formatNameAddr, type Dialog, type Flow, type SipRequest } from '../sip/index.js';
import type { CallerView } from './caller-view.js';
import type { LegEnd } from './leg.js';
import type {
  CallAttempt,
  CallOutcome,
  CallParty,
  CallRecord,
  CallState,
  CallStore,
  StoredDialog,
} from '../storage/index.js';

const ALLOWED_TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  routing: ['ringing', 'answered', 'ended'],
  ringing: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
};

export interface CallRecordInit {
  readonly id: string;
  readonly caller: CallerView;
  readonly queue: string | undefined;
  readonly invite: SipRequest;
  readonly flow: Flow;
  readonly number: { readonly number: string; readonly fallback: boolean };
}

/** How a call ended, as the record keeps it. */
export interface CallEnd {
  readonly outcome: CallOutcome;
  readonly endedBy: CallParty;
  readonly reason: string;
  /** The final status the caller's leg got, when it got one now. */
  readonly status?: number | undefined;
}

export class CallRecordKeeper {
  readonly record: CallRecord;
  readonly #store: CallStore;
  readonly #now: () => number;
  readonly #log: Logger;
  /** The answered legs' live dialogs, by leg name: stored as they are at each write. */
  readonly #dialogs = new Map<string, Dialog>();
  /** Legs made to go out another way than SIP, by Call-ID, until their attempt starts. */
  readonly #via = new Map<string, string>();

  constructor(deps: { store: CallStore; now: () => number; log: Logger }, init: CallRecordInit) {
    this.#store = deps.store;
    this.#now = deps.now;
    this.#log = deps.log;
    const caller = init.caller;
    // Behind a trusted edge proxy, the visitor it names (sip/transport/edge.ts).
    const visitor = clientOf(init.invite, init.flow);
    this.record = {
      id: init.id,
      tenant: caller.tenant,
      sessionId: caller.sessionId,
      sessionNumber: init.number.number,
      numberFallback: init.number.fallback,
      customerId: caller.customerId,
      queue: init.queue ?? null,
      origin: caller.origin,
      visitorCallId: init.invite.callId,
      visitorTransport: visitor.protocol,
      visitorSource: `${visitor.address}:${visitor.port}`,
      channel: caller.channel,
      trunk: caller.trunk?.trunk ?? null,
      called: caller.trunk?.called ?? null,
      callerNumber: caller.trunk?.callerNumber ?? null,
      flow: caller.trunk?.flow ?? null,
      agentCallId: null,
      agentId: null,
      state: 'routing',
      outcome: null,
      endedBy: null,
      sipStatus: null,
      reason: null,
      attempts: [],
      media: null,
      routing: null,
      dialogs: [],
      createdAt: this.#now(),
      ringingAt: null,
      answeredAt: null,
      endedAt: null,
    };
  }

  get state(): CallState {
    return this.record.state;
  }

  /**
   * Written behind: the call never waits for the database. The store applies
   * this record's writes in order; a failed write is logged (the live record
   * stays right, and the next write carries every field again).
   */
  insert(): void {
    this.#store.insert(this.record).catch((err: unknown) => this.#writeFailed('insert', err));
  }

  /** Moves the call to `next`; false (and nothing changes) when the move is not allowed. */
  transition(next: CallState): boolean {
    const from = this.record.state;
    if (!ALLOWED_TRANSITIONS[from].includes(next)) {
      this.#log.error({ from, to: next }, 'illegal call state transition refused');
      return false;
    }
    this.record.state = next;
    if (next === 'ringing') this.record.ringingAt = this.#now();
    if (next === 'answered') {
      this.record.answeredAt = this.#now();
      this.save();
    }
    return true;
  }

  /** A leg about to be an attempt went out another way than SIP (`trunk:<id>`): its attempt says so. */
  attemptVia(callId: string, via: string): void {
    this.#via.set(callId, via);
  }

  /** An agent leg was sent. */
  attemptStarted(agentId: string, callId: string): CallAttempt {
    const via = this.#via.get(callId);
    this.#via.delete(callId);
    const attempt: CallAttempt = {
      agentId,
      callId,
      startedAt: this.#now(),
      ...(via !== undefined ? { via } : {}),
    };
    this.record.attempts.push(attempt);
    this.record.agentCallId = callId;
    this.record.agentId = agentId;
    return attempt;
  }

  /**
   * An agent leg is over (failed, cancelled, or hung up after the call):
   * `endedAt` is set once; status and reason keep what was said first.
   */
  attemptEnded(attempt: CallAttempt, status?: number, reason?: string): void {
    attempt.endedAt ??= this.#now();
    if (status !== undefined) attempt.status ??= status;
    if (reason !== undefined) attempt.reason ??= reason;
  }

  /** An attempt's reason, said before its leg ended (a CANCEL's reason). */
  attemptReason(attempt: CallAttempt, reason: string): void {
    attempt.reason ??= reason;
  }

  /** The agent who took the call. */
  answeredBy(attempt: CallAttempt): void {
    attempt.status = 200;
    attempt.answeredAt = this.#now();
    this.record.agentCallId = attempt.callId;
    this.record.agentId = attempt.agentId;
  }

  /**
   * Legs were answered (the caller's got our 200): their dialogs are kept and
   * stored with each write from now on, so a restart can still end them.
   */
  legsAnswered(
    ...legs: readonly { readonly name: string; readonly dialog: Dialog | undefined }[]
  ): void {
    for (const leg of legs) {
      if (leg.dialog) this.#dialogs.set(leg.name, leg.dialog);
      if (leg.name === 'caller') this.record.sipStatus = 200;
    }
  }

  /** Writes the record (with the dialogs as they are now: target refreshes, our CSeq). */
  save(): void {
    this.record.dialogs = [...this.#dialogs].map(([leg, dialog]) => storedDialog(leg, dialog));
    this.#store.update(this.record).catch((err: unknown) => this.#writeFailed('update', err));
  }

  #writeFailed(write: 'insert' | 'update', err: unknown): void {
    this.#log.error({ err, write, callId: this.record.id }, 'call record not written');
  }

  /** The call ended: outcome, times and media counters, written once. */
  finish(how: CallEnd, media: Record<string, unknown> | null): void {
    if (how.status !== undefined) this.record.sipStatus = how.status;
    this.record.outcome = how.outcome;
    this.record.endedBy = how.endedBy;
    this.record.reason = how.reason;
    this.record.endedAt = this.#now();
    this.record.media = media;
    for (const attempt of this.record.attempts) attempt.endedAt ??= this.record.endedAt;
    this.transition('ended');
    this.save();
  }
}

/** What a BYE after a restart needs of a dialog. */
export function storedDialog(leg: string, dialog: Dialog): StoredDialog {
  const flow = dialog.flow;
  return {
    leg,
    callId: dialog.callId,
    localTag: dialog.localTag,
    remoteTag: dialog.remoteTag,
    local: formatNameAddr(dialog.local),
    remote: formatNameAddr(dialog.remote),
    remoteTarget: dialog.remoteTarget,
    routeSet: dialog.routeSet,
    localSeq: dialog.localSeq,
    localContact: dialog.localContact,
    transport: flow
      ? { protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port }
      : null,
  };
}

/**
 * How a leg's end ends its call: the caller hanging up, cancelling, going away
 * (its connection, no ACK), or the answered agent hanging up. Undefined when
 * it does not end the call (a ringing agent's leg; what the call did itself).
 */
export function callEndOf(
  role: 'caller' | 'agent' | 'other',
  end: LegEnd,
  answered: boolean,
): CallEnd | undefined {
  if (end.by === 'local') return undefined; // the call (or its ring strategy) did it
  if (role === 'agent')
    return end.cause === 'bye'
      ? { outcome: 'answered', endedBy: 'agent', reason: 'normal_clearing' }
      : undefined;
  if (role !== 'caller') return undefined;
  switch (end.cause) {
    case 'cancel':
      return { outcome: 'cancelled', endedBy: 'visitor', reason: 'cancelled', status: 487 };
    case 'ack_timeout':
      return { outcome: 'answered', endedBy: 'gateway', reason: 'visitor_gone' };
    case 'bye':
      return {
        outcome: answered ? 'answered' : 'cancelled',
        endedBy: 'visitor',
        reason: 'normal_clearing',
      };
    default:
      return {
        outcome: answered ? 'answered' : 'cancelled',
        endedBy: 'visitor',
        reason: end.reason,
      };
  }
}

/** The media counters the record keeps: packets each way and where each party's RTP came from. */
export function mediaCounters(
  visitor: MediaTransport | undefined,
  agent: MediaTransport | undefined,
): Record<string, unknown> | null {
  if (!visitor || !agent) return null;
  const view = (t: MediaTransport) => {
    const s = t.stats();
    return { packetsIn: s.packetsIn, packetsOut: s.packetsOut, latchedTo: s.latchedTo ?? null };
  };
  return { visitor: view(visitor), agent: view(agent) };
}
