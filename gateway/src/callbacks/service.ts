/**
 * Callbacks as the API sees them: a request (a verified `callback:` token)
 * becomes one stored record and a place in the scheduler; records are listed,
 * fetched, cancelled and watched. At start, what a stop left in progress is
 * closed as `interrupted` (its answered legs get a BYE) and a connected but
 * uncharged callback is charged (once: the ledger key).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { ParleyError } from '@parley/shared/errors';
import type { CallbackEvent } from '@parley/shared/protocol';
import type { VerifiedCallToken } from '@parley/shared/tokens';
import type { CallbacksConfig } from '../config/callbacks.js';
import type { Logger } from '../observability/index.js';
import type { CallbackDestinations } from './destinations.js';
import type { CallbackFees } from './fee.js';
import {
  chargeOwed,
  closeInterrupted,
  type ClosedCallbacks,
  type InterruptedDeps,
} from './interrupted.js';
import type { CallbackMode, CallbackRecord } from './model.js';
import { checkCallbackNumber } from './number-rules.js';
import { progressEvent, type CallbackProgress, type ProgressListener } from './progress.js';
import type { CallbackDeskFeed, CallbackRunner } from './runner.js';
import type { CallbackScheduler } from './scheduler.js';
import type { CallbackLimits, CallbackListFilter, CallbackStore } from './store.js';

export interface CallbackServiceOptions {
  readonly config: CallbacksConfig;
  readonly store: CallbackStore;
  readonly destinations: CallbackDestinations;
  readonly fees: CallbackFees;
  readonly progress: CallbackProgress;
  readonly runner: CallbackRunner;
  readonly scheduler: CallbackScheduler;
  /** The desks of the callback's queue or agent see it end when it is cancelled or expires waiting. */
  readonly desk?: CallbackDeskFeed | undefined;
  readonly logger: Logger;
  readonly now: () => number;
}

export interface CallbackRequest {
  readonly token: VerifiedCallToken;
  /** The destination the token's `callback:` scope names (checked by the verifier). */
  readonly destination: string;
  readonly page?: string | undefined;
  readonly impressionId?: string | undefined;
}

export interface CallbackAccepted {
  readonly record: CallbackRecord;
  /** The secret that lets the requester watch and cancel this callback (only its hash is stored). */
  readonly watchKey: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export class CallbackService {
  readonly #o: CallbackServiceOptions;
  readonly #log: Logger;
  readonly #closing: InterruptedDeps;

  constructor(options: CallbackServiceOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'callbacks' });
    const { store, fees, now } = options;
    this.#closing = { store, fees, now, logger: this.#log };
  }

  /**
   * Closes what the last stop left in progress and schedules what waits.
   * Answers the interrupted callbacks' answered legs, for a BYE, and their
   * advertiser INVITEs that were ringing, for a CANCEL; with `error` when a
   * record could not be closed (nothing scheduled then: the start fails
   * once the closed ones' legs are answered, as `module.ts` does).
   */
  async start(): Promise<ClosedCallbacks> {
    const { store } = this.#o;
    const closed = await this.closeInterrupted(await store.inProgress());
    if (closed.interrupted.length > 0)
      this.#log.warn(
        { callbacks: closed.interrupted.length },
        'closed callbacks interrupted by the last stop',
      );
    if ('error' in closed) return closed;
    // Ended, connected and never charged: the charge failed then (a shared ledger that was down).
    for (const record of await store.uncharged()) await chargeOwed(this.#closing, record);
    for (const record of await store.scheduled()) this.schedule(record);
    return closed;
  }

  /** Ends callbacks a stop left in progress (`interrupted.ts`: each on its own). */
  closeInterrupted(records: readonly CallbackRecord[]): Promise<ClosedCallbacks> {
    return closeInterrupted(this.#closing, records);
  }

  /**
   * Schedules this gateway's scheduled callbacks its scheduler does not hold
   * (a lost gateway's taken over whose answer was lost); resolves with them.
   */
  async scheduleMissing(): Promise<CallbackRecord[]> {
    const missing = (await this.#o.store.scheduled()).filter((r) => !this.#o.scheduler.has(r.id));
    for (const record of missing) this.schedule(record);
    return missing;
  }

  /** Checks and stores a callback request, and schedules it. */
  async request(input: CallbackRequest): Promise<CallbackAccepted> {
    const { config, store, now } = this.#o;
    const { claims, privateClaims } = input.token;
    const claim = privateClaims.callback;
    if (!claim)
      throw new ParleyError('scope_denied', 'the token carries no callback claim (number, time)', {
        expose: true,
      });
    const at = now();
    const phone = checkCallbackNumber(claim.phone, config.numbers);
    const resolved = await this.#o.destinations.resolve(
      input.destination,
      claims.iss,
      input.impressionId,
      at,
    );
    const { mode, dueAt } = this.#when(claim.when, at, resolved.openAt, resolved.queue);
    const { perNumber, perSession } = config.rateLimit;
    // Counted in the insert's step: of concurrent requests (on any gateway), `max` pass.
    const limits: CallbackLimits = {
      perNumber: { since: at - perNumber.windowSeconds * 1000, max: perNumber.max },
      perSession: {
        tenant: claims.iss,
        sessionId: claims.sub,
        since: at - perSession.windowSeconds * 1000,
        max: perSession.max,
      },
    };
    const record: CallbackRecord = {
      id: randomUUID(),
      tenant: resolved.tenant,
      destination: resolved.destination,
      listingId: resolved.listingId,
      advertiserId: resolved.advertiserId,
      advertiserName: resolved.advertiserName,
      target: resolved.target,
      phone,
      callerNumber: resolved.callerNumber,
      sessionId: claims.sub,
      origin: claims.origin,
      page: input.page ?? null,
      // The page's reference is a claim: only an impression its seal proves is kept (docs/marketplace.md).
      impressionId: resolved.impressionId,
      tokenId: claims.jti,
      mode,
      dueAt,
      expiresAt: mode === 'agent-free' ? at + config.agentFreeMaxWaitSeconds * 1000 : null,
      state: 'scheduled',
      outcome: null,
      code: null,
      feeCents: resolved.feeCents,
      currency: resolved.currency,
      connectedAt: null,
      chargedAt: null,
      chargeKey: null,
      chargeTransactionId: null,
      attempts: [],
      dialogs: [],
      ringing: [],
      privateClaims: Object.fromEntries(
        Object.entries(privateClaims).filter(([k]) => k !== 'callback'),
      ),
      createdAt: at,
      updatedAt: at,
      endedAt: null,
    };
    const watchKey = randomBytes(24).toString('base64url');
    // The token's jti is unique in the table: a token is used for one callback only.
    await store.insert(record, sha256(watchKey), limits);
    this.#log.info(
      { callback: record.id, destination: record.destination, mode, dueAt: new Date(dueAt) },
      'callback requested',
    );
    this.schedule(record);
    return { record, watchKey };
  }

  get(id: string): Promise<CallbackRecord | undefined> {
    return this.#o.store.get(id);
  }

  list(filter: CallbackListFilter): Promise<CallbackRecord[]> {
    return this.#o.store.list(filter);
  }

  /** Whether `key` is the watch key handed out for callback `id`. */
  async watchKeyMatches(id: string, key: string): Promise<boolean> {
    const stored = await this.#o.store.watchHash(id);
    if (stored === undefined) return false;
    const a = Buffer.from(stored, 'hex');
    const b = Buffer.from(sha256(key), 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /**
   * Watches a callback's progress: what a live callback went through so far
   * (or, with no history here, its state now) at once, then each change.
   */
  async watch(id: string, listener: ProgressListener): Promise<() => void> {
    const record = await this.#o.store.get(id);
    if (!record) throw new ParleyError('not_found', 'no such callback', { expose: true });
    return this.watchFrom(record, listener);
  }

  /** Watches until `until` accepts an event (every event is shown to it); resolves with that one. */
  async watchUntil(id: string, until: (e: CallbackEvent) => boolean): Promise<CallbackEvent> {
    // The first events come inside watch(), before it answers the unsubscribe.
    const w: { stop?: () => void; found?: CallbackEvent; resolve?: (e: CallbackEvent) => void } =
      {};
    const done = new Promise<CallbackEvent>((resolve) => (w.resolve = resolve));
    w.stop = await this.watch(id, (e) => {
      if (w.found || !until(e)) return;
      w.found = e;
      w.stop?.();
      w.resolve?.(e);
    });
    if (w.found) w.stop();
    return done;
  }

  /** {@link watch} of a record read just before (the SSE route reads it before its stream opens). */
  watchFrom(record: CallbackRecord, listener: ProgressListener): () => void {
    const past = this.#o.progress.history(record.id);
    if (past.length > 0 && record.state !== 'ended') for (const event of past) listener(event);
    else listener(progressEvent(record, this.#o.now()));
    return this.#o.progress.watch(record.id, listener);
  }

  /**
   * Cancels a callback: a waiting one never runs (on any gateway: its claim
   * finds it ended; this gateway's run being claimed is stopped before it
   * dials); a live attempt on this gateway is hung up. One live on another
   * gateway goes on (answered as it is).
   */
  async cancel(id: string): Promise<CallbackRecord> {
    const { store, scheduler, runner, now } = this.#o;
    const record = await store.get(id);
    if (!record) throw new ParleyError('not_found', 'no such callback', { expose: true });
    if (record.state === 'ended') return record;
    if (runner.abort(id, 'cancelled') && record.state !== 'scheduled') return record;
    scheduler.remove(id);
    const at = now();
    const ended: CallbackRecord = {
      ...record,
      state: 'ended',
      outcome: 'cancelled',
      code: 'callback_cancelled',
      updatedAt: at,
      endedAt: at,
    };
    // Only while it waits. Claimed meanwhile: by this gateway, whose run is stopped (now, if it
    // started after the abort above) and ends it without dialling; or by another (as stored).
    let saved: boolean;
    try {
      saved = await store.saveIf(ended, 'scheduled');
    } catch (error) {
      // The cancel did not land (the store down or busy): the callback waits as before, in
      // this gateway's scheduler again, and the caller gets the error and may ask again. (A
      // write that landed with its answer lost: the run finds the row ended and does not dial.)
      if (record.state === 'scheduled') this.schedule(record);
      throw error;
    }
    if (!saved) {
      if (runner.abort(id, 'cancelled')) await runner.over(id);
      return (await store.get(id)) ?? record;
    }
    // Ended while scheduled: a claim of it pending here never landed.
    runner.cancelled(id);
    this.#ended(ended, at);
    return ended;
  }

  /**
   * An agent-free callback that waited past agentFreeMaxWaitSeconds. `again`:
   * an earlier try rejected (the scheduler tries again); a row it finds ended
   * `expired` is that try's, landed with its answer lost: told now.
   */
  async expire(id: string, again = false): Promise<void> {
    const { store, now } = this.#o;
    const record = await store.get(id);
    if (again && record?.state === 'ended' && record.outcome === 'expired') {
      this.#ended(record, record.endedAt ?? now());
      return;
    }
    if (!record || record.state !== 'scheduled') return;
    const at = now();
    const ended: CallbackRecord = {
      ...record,
      state: 'ended',
      outcome: 'expired',
      code: 'callback_advertiser_unavailable',
      updatedAt: at,
      endedAt: at,
    };
    if (await store.saveIf(ended, 'scheduled')) this.#ended(ended, at);
  }

  /**
   * A callback ended while it waited (cancelled, expired): its page and the
   * desks that would have seen it run are told. The desk feed must not
   * break the cancel: a failure is logged.
   */
  #ended(record: CallbackRecord, at: number): void {
    this.#o.progress.publish(progressEvent(record, at) satisfies CallbackEvent);
    try {
      this.#o.desk?.progress(record, 'ended');
    } catch (error) {
      this.#log.error({ err: error, callback: record.id }, 'callback desk feed failed');
    }
  }

  /** Runs one attempt; a retry goes back to the scheduler. */
  async run(id: string): Promise<void> {
    const result = await this.#o.runner.run(id);
    if (result?.kind === 'retry') this.schedule(result.record);
  }

  /** Puts a scheduled callback in this gateway's scheduler (its own, or one taken over). */
  schedule(record: CallbackRecord): void {
    this.#o.scheduler.add({
      id: record.id,
      dueAt: record.dueAt,
      waitFor:
        record.mode === 'agent-free' && record.target.kind === 'queue' ? record.target.queue : null,
      expiresAt: record.expiresAt,
    });
  }

  /** The claim's `when`: now, when an agent is free, or an instant in the destination's hours. */
  #when(
    when: string,
    at: number,
    openAt: (instant: number) => boolean,
    queue: string | null,
  ): { mode: CallbackMode; dueAt: number } {
    if (when === 'now') {
      if (!openAt(at))
        throw new ParleyError('callback_slot_invalid', 'the destination is closed now', {
          expose: true,
        });
      return { mode: 'now', dueAt: at };
    }
    if (when === 'agent-free') {
      if (queue === null)
        throw new ParleyError('callback_slot_invalid', '"when an agent is free" needs a queue', {
          expose: true,
        });
      return { mode: 'agent-free', dueAt: at };
    }
    const instant = Date.parse(when);
    if (!Number.isFinite(instant))
      throw new ParleyError(
        'callback_slot_invalid',
        `"${when}" is not now, agent-free or an instant`,
        {
          expose: true,
        },
      );
    if (instant > at + this.#o.config.maxDaysAhead * 86_400_000)
      throw new ParleyError('callback_slot_invalid', 'the slot is too far ahead', { expose: true });
    if (!openAt(Math.max(instant, at)))
      throw new ParleyError('callback_slot_invalid', 'the destination is closed at that time', {
        expose: true,
      });
    return { mode: 'slot', dueAt: Math.max(instant, at) };
  }
}
