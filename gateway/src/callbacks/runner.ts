/**
 * Runs a callback's attempts and keeps its record: every step is written
 * before the next is taken (`calling` and the new attempt before the INVITE
 * leaves; the connection before the charge; the charge before the media
 * joins), so a crash never places a callback twice nor loses a fee. After a
 * busy or unanswered customer the callback is scheduled again, up to
 * `retries.maxAttempts`, `busyDelaySeconds` / `noAnswerDelaySeconds` later.
 */
import type { CallbackPhase } from '@parley/shared/protocol';
import { storedDialog } from '../calls/index.js';
import type { CallbacksConfig } from '../config/callbacks.js';
import type { Logger } from '../observability/index.js';
import type { AttemptLog } from './attempt-log.js';
import { CallbackCall, type AttemptResult, type CallbackCallDeps } from './call/callback-call.js';
import { CallbackClaims } from './claim.js';
import type { CallbackFees } from './fee.js';
import type { CallbackRecord, CallbackState } from './model.js';
import { progressEvent, type CallbackProgress } from './progress.js';
import { RecordWrites, type RunResult } from './record-writes.js';
import type { CallbackStore } from './store.js';

/**
 * What the desks are told about callbacks (`desk/callback-feed.ts`): every
 * phase of one (`progress`, the same moments the customer's page is told),
 * and the agents it rings at and is answered by. Called inline: must not throw.
 */
export interface CallbackDeskFeed {
  progress(record: CallbackRecord, phase: CallbackPhase): void;
  ringing(agentId: string, record: CallbackRecord, routing: Record<string, unknown> | null): void;
  stopped(agentId: string, callbackId: string): void;
  answered(agentId: string, record: CallbackRecord, routing: Record<string, unknown> | null): void;
  ended(agentId: string, record: CallbackRecord): void;
}

export interface CallbackRunnerOptions {
  readonly store: CallbackStore;
  readonly fees: CallbackFees;
  readonly call: CallbackCallDeps;
  readonly config: CallbacksConfig;
  readonly progress: CallbackProgress;
  readonly desk?: CallbackDeskFeed | undefined;
  readonly logger: Logger;
  readonly now: () => number;
  /** Metrics hooks (optional). */
  readonly onAttempt?: ((result: AttemptResult) => void) | undefined;
  readonly onTimings?:
    ((name: 'customer_ringing' | 'advertiser_ringing', seconds: number) => void) | undefined;
  /** A record write given up (after its tries), or a claim whose outcome its checks could not learn. */
  readonly onWriteFailed?: (() => void) | undefined;
  /** Between the tries of an attempt's last write (default 250 ms, then twice, thrice that). */
  readonly writeRetryMs?: number | undefined;
}

/** Tries of an attempt's writes that matter most (its connection, its retry, its end). */
const LAST_WRITE_TRIES = 3;

export type { RunResult } from './record-writes.js';

/** A run on this gateway, from before its claim (a cancel then stops it before it dials) to its end. */
interface Run {
  readonly stop: AbortController;
  call: CallbackCall | undefined;
  readonly over: Promise<void>;
}

export class CallbackRunner {
  readonly #o: CallbackRunnerOptions;
  readonly #live = new Map<string, Run>();
  readonly #writes: RecordWrites;
  readonly #claims: CallbackClaims;

  constructor(options: CallbackRunnerOptions) {
    this.#o = options;
    this.#writes = new RecordWrites({
      store: options.store,
      logger: options.logger,
      onFailed: options.onWriteFailed,
      retryMs: options.writeRetryMs ?? 250,
      lastTries: LAST_WRITE_TRIES,
    });
    this.#claims = new CallbackClaims({
      store: options.store,
      now: options.now,
      logger: options.logger,
      calling: (stored, log) => this.#snapshot(stored, 'calling', log, undefined),
      tries: LAST_WRITE_TRIES,
      retryMs: options.writeRetryMs ?? 250,
      onFailed: options.onWriteFailed,
    });
  }

  /** Stops every live attempt (the gateway stopping). */
  abortAll(reason: string): void {
    for (const id of this.#live.keys()) this.abort(id, reason);
  }

  /** Callbacks whose attempt is live now. */
  get live(): number {
    return this.#live.size;
  }

  /**
   * Stops a run of this gateway (a cancel, the gateway stopping): a live
   * attempt is hung up; one being claimed never dials, nor one whose claim's
   * outcome is not known yet (its next run ends it). False when none runs.
   */
  abort(id: string, reason: string): boolean {
    const run = this.#live.get(id);
    run?.stop.abort(reason);
    run?.call?.abort(reason);
    return run !== undefined || this.#claims.stop(id, reason);
  }

  /**
   * Whether this gateway owes the callback the end of a run begun: a claim
   * whose outcome is not known yet, or an attempt's last write not written.
   * Its next run settles that first; it no longer waits for an agent.
   */
  owes(id: string): boolean {
    return this.#claims.pending(id) || this.#writes.unwritten(id) !== undefined;
  }

  /**
   * A cancel's end written over a callback still `scheduled`: a claim of it
   * pending here never landed (nor will: the row is ended), forgotten.
   */
  cancelled(id: string): void {
    this.#claims.forget(id);
  }

  /** Settles when this gateway's run of the callback (if any) is over, its end written. */
  over(id: string): Promise<void> {
    return this.#live.get(id)?.over ?? Promise.resolve();
  }

  /** Runs the next attempt of a scheduled callback; resolves when it is over. */
  async run(id: string): Promise<RunResult | undefined> {
    if (this.#live.has(id)) return undefined;
    let done = () => {};
    const run: Run = {
      stop: new AbortController(),
      call: undefined,
      over: new Promise<void>((resolve) => (done = resolve)),
    };
    // Known before the claim: a cancel from now on stops it (see #attempt).
    this.#live.set(id, run);
    const stopped = this.#claims.stopped(id);
    if (stopped !== undefined) run.stop.abort(stopped);
    try {
      const unwritten = this.#writes.unwritten(id);
      if (!unwritten) return await this.#attempt(id, run);
      // The attempt is over: its retry (or end) written now, it is answered as then.
      await this.#writes.last(unwritten);
      this.#publish(unwritten.record);
      return unwritten;
    } finally {
      this.#live.delete(id);
      done();
    }
  }

  async #attempt(id: string, run: Run): Promise<RunResult | undefined> {
    const { now, config } = this.#o;
    // Written before the INVITE leaves: a crash from here on is `interrupted`, never placed twice.
    // The claim is the write: of two gateways (or a cancel) racing for it, one moves it; an error
    // is not its outcome (claim.ts: the answer may be lost with the claim applied).
    const claimed = await this.#claims.claim(id, () => run.stop.signal.aborted);
    if (!claimed) return undefined;
    const { stored, log } = claimed;
    let record = claimed.record;
    // Stopped while it was being claimed (the cancel read it scheduled): never dialled.
    if (run.stop.signal.aborted) return this.#unclaim(stored, run.stop.signal.reason);
    this.#publish(record);
    const desk = this.#o.desk;
    let agent: string | undefined;
    const call: CallbackCall = new CallbackCall(
      this.#o.call,
      {
        id: record.id,
        tenant: record.tenant,
        sessionId: record.sessionId,
        phone: record.phone,
        callerNumber: record.callerNumber,
        advertiserName: record.advertiserName,
        target: record.target,
        privateClaims: record.privateClaims,
      },
      log,
      {
        // Written while it rings: a crash now leaves the customer's INVITE, which the next start CANCELs.
        ringing: () => {
          record = this.#save(record, record.state, log, call);
          this.#timing(
            'customer_ringing',
            record.attempts.length === 1 ? record.createdAt : log.startedAt,
            log.customer.ringingAt,
          );
          this.#publish(record, 'ringing');
        },
        prompting: () => {
          record = this.#save(record, 'prompting', log, call);
          this.#publish(record);
        },
        accepted: () => {
          record = this.#save(record, record.state, log, call);
          return this.#o.fees.canPay(record);
        },
        connecting: () => {
          record = this.#save(record, 'connecting', log, call);
          this.#publish(record);
        },
        // Written while it rings: a crash now leaves an INVITE the next start CANCELs.
        advertiserRinging: () => {
          record = this.#save(record, record.state, log, call);
        },
        agent: (agentId, ringing) => {
          if (ringing) desk?.ringing(agentId, record, log.record.routing);
          else if (agentId !== agent) desk?.stopped(agentId, record.id);
        },
        connected: async (_party, agentId) => {
          const ringingAt = Math.min(
            ...log.advertiser.map((l) => l.ringingAt ?? Number.POSITIVE_INFINITY),
          );
          if (log.keyAt !== null && Number.isFinite(ringingAt))
            this.#timing('advertiser_ringing', log.keyAt, ringingAt);
          // Written in the callback's chain (after the writes before it, never overtaken by one).
          // Known in memory first: a failed write still ends the record connected (charged later).
          const connected = this.#snapshot(record, 'connected', log, call);
          record = await this.#charge(
            { ...connected, connectedAt: connected.connectedAt ?? now() },
            true,
          );
          agent = agentId;
          if (agentId !== undefined) desk?.answered(agentId, record, log.record.routing);
          this.#publish(record);
        },
      },
    );
    run.call = call;
    const result = await call.run();
    this.#o.onAttempt?.(result);
    const retry =
      (result.outcome === 'busy' || result.outcome === 'no_answer') &&
      log.n < config.retries.maxAttempts;
    const at = now();
    if (retry) {
      const delay =
        result.outcome === 'busy'
          ? config.retries.busyDelaySeconds
          : config.retries.noAnswerDelaySeconds;
      record = {
        ...this.#snapshot(record, 'scheduled', log, undefined),
        dueAt: at + delay * 1000,
        code: result.code ?? null,
      };
      await this.#writes.last({ kind: 'retry', record });
      this.#o.logger.info(
        { callback: id, attempt: log.n, outcome: result.outcome, retryAt: new Date(record.dueAt) },
        'callback attempt failed: retry scheduled',
      );
      this.#publish(record);
      return { kind: 'retry', record };
    }
    // A charge that failed at the connection (the shared ledger unreachable) is tried again now,
    // and else at the next start (`CallbackService.start`): the connection is written.
    if (record.connectedAt !== null && record.chargedAt === null)
      record = await this.#charge(record, false);
    record = {
      ...this.#snapshot(record, 'ended', log, undefined),
      outcome: result.outcome,
      code: result.code ?? null,
      endedAt: at,
    };
    await this.#writes.last({ kind: 'ended', record });
    this.#o.logger.info(
      { callback: id, attempt: log.n, outcome: result.outcome, detail: result.detail },
      'callback ended',
    );
    if (agent !== undefined) desk?.ended(agent, record);
    this.#publish(record);
    return { kind: 'ended', record };
  }

  /**
   * A claimed callback stopped before its attempt: a cancel ends it
   * (`cancelled`, never dialled); a stop puts it back, scheduled.
   */
  async #unclaim(stored: CallbackRecord, reason: unknown): Promise<RunResult | undefined> {
    const at = this.#o.now();
    if (reason !== 'cancelled') {
      await this.#writes.write({ ...stored, updatedAt: at }).catch(() => undefined);
      return undefined;
    }
    const record: CallbackRecord = {
      ...stored,
      state: 'ended',
      outcome: 'cancelled',
      code: 'callback_cancelled',
      updatedAt: at,
      endedAt: at,
    };
    // Tried again (kept for the next run, which the scheduler makes) until written: never left calling.
    await this.#writes.last({ kind: 'ended', record });
    this.#o.logger.info({ callback: record.id }, 'callback cancelled before its attempt');
    this.#publish(record);
    return { kind: 'ended', record };
  }

  /**
   * The connection written (first time) and the fee charged; a failed charge
   * is logged and leaves the record connected, uncharged.
   */
  async #charge(record: CallbackRecord, connecting: boolean): Promise<CallbackRecord> {
    const { fees, store, now } = this.#o;
    try {
      return connecting
        ? await fees.connected(record, now(), (r) => this.#writes.write(r, LAST_WRITE_TRIES))
        : await fees.charge(record);
    } catch (error) {
      this.#o.logger.error({ err: error, callback: record.id }, 'callback fee not charged yet');
      const stored = await store.get(record.id).catch(() => undefined);
      return { ...record, connectedAt: stored?.connectedAt ?? record.connectedAt };
    }
  }

  /** The record with the state and the attempt as it is now (and the answered legs' dialogs). */
  #snapshot(
    record: CallbackRecord,
    state: CallbackState,
    log: AttemptLog,
    call: CallbackCall | undefined,
  ): CallbackRecord {
    const attempts = record.attempts.filter((a) => a.n !== log.n);
    return {
      ...record,
      state,
      attempts: [...attempts, log.snapshot()],
      dialogs: call ? call.dialogs().map(([leg, dialog]) => storedDialog(leg, dialog)) : [],
      ringing: call ? call.ringing() : [],
      updatedAt: this.#o.now(),
    };
  }

  #save(
    record: CallbackRecord,
    state: CallbackState,
    log: AttemptLog,
    call?: CallbackCall,
  ): CallbackRecord {
    const next = this.#snapshot(record, state, log, call);
    // A failure is logged (by RecordWrites): the call goes on, the next write carries the whole record.
    this.#writes.write(next).catch(() => undefined);
    return next;
  }

  #publish(record: CallbackRecord, phase?: CallbackPhase): void {
    const event = progressEvent(record, this.#o.now(), phase);
    this.#o.progress.publish(event);
    try {
      this.#o.desk?.progress(record, event.phase);
    } catch (error) {
      this.#o.logger.error({ err: error, callback: record.id }, 'callback desk feed failed');
    }
  }

  #timing(name: 'customer_ringing' | 'advertiser_ringing', from: number, to: number | null): void {
    if (to === null || to < from) return;
    this.#o.onTimings?.(name, (to - from) / 1000);
  }
}
