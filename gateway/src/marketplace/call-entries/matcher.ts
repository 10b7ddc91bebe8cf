/**
 * S3 as claimed: for each call entry of a content provider, (1) find the log
 * entries (impressions) with the same device identifier, (2) keep those where
 * the predetermined threshold holds (the call started within T of the
 * impression, and/or lasted at least D), (3) take the virtual number from the
 * log entry, (4) look up the impression id through that number, (5) store the
 * entry's data with the impression. Idempotent by entry id.
 */
import type { ImpressionStore } from '../impression-store.js';
import type { Impression } from '../model.js';
import type { CallEntry } from './entry.js';
import type { CallEntryStore } from './store.js';

export type MatchRule = 'time' | 'duration' | 'time-and-duration' | 'time-or-duration';

export interface MatchThreshold {
  readonly rule: MatchRule;
  /** T: the call started at most this long after the impression. */
  readonly windowSeconds: number;
  /** D: the call lasted at least this long. */
  readonly minDurationSeconds: number;
}

export type UnmatchedReason = 'no_device' | 'outside_threshold' | 'number_mismatch';

export type EntryResult =
  | {
      readonly id: string;
      readonly status: 'matched';
      readonly impressionId: string;
      readonly listingId: string;
      readonly number: string | null;
    }
  | {
      readonly id: string;
      readonly status: 'unmatched';
      readonly reason: UnmatchedReason;
      readonly detail: string;
    }
  | {
      readonly id: string;
      readonly status: 'duplicate';
      readonly previous: {
        readonly status: 'matched' | 'unmatched';
        readonly impressionId: string | null;
        readonly reason: string | null;
      };
    };

/** How many of a device's log entries are examined per call entry (newest first). */
const MAX_LOG_ENTRIES = 50;

export class CallEntryMatcher {
  readonly #impressions: ImpressionStore;
  readonly #store: CallEntryStore;

  constructor(impressions: ImpressionStore, store: CallEntryStore) {
    this.#impressions = impressions;
    this.#store = store;
  }

  /** Matches and stores a chunk of valid entries in one transaction. */
  processChunk(
    tenant: string,
    entries: readonly CallEntry[],
    threshold: MatchThreshold,
    now: number,
  ): EntryResult[] {
    return this.#store.atomically(() => entries.map((e) => this.#one(tenant, e, threshold, now)));
  }

  #one(tenant: string, e: CallEntry, t: MatchThreshold, now: number): EntryResult {
    const previous = this.#store.get(tenant, e.id);
    if (previous)
      return {
        id: e.id,
        status: 'duplicate',
        previous: {
          status: previous.status,
          impressionId: previous.impressionId,
          reason: previous.reason,
        },
      };
    const outcome = this.#match(tenant, e, t);
    this.#store.insert({
      tenant,
      entryId: e.id,
      status: outcome.status,
      reason: outcome.status === 'unmatched' ? outcome.reason : null,
      impressionId: outcome.status === 'matched' ? outcome.impressionId : null,
      deviceId: e.deviceId,
      number: e.number ?? null,
      startedAt: e.startedAt,
      durationSeconds: e.durationSeconds ?? null,
      data: JSON.stringify(e.data),
      receivedAt: now,
    });
    return outcome;
  }

  #match(
    tenant: string,
    e: CallEntry,
    t: MatchThreshold,
  ): Exclude<EntryResult, { status: 'duplicate' }> {
    const usesTime = t.rule !== 'duration';
    const windowMs = t.windowSeconds * 1000;
    // 1. The device's log entries begun before the call (within T when time counts alone).
    const since = t.rule === 'time' || t.rule === 'time-and-duration' ? e.startedAt - windowMs : 0;
    const logEntries = this.#impressions.byDevice(
      tenant,
      e.deviceId,
      since,
      e.startedAt,
      MAX_LOG_ENTRIES,
    );
    if (logEntries.length === 0) {
      const any =
        since > 0 && this.#impressions.byDevice(tenant, e.deviceId, 0, e.startedAt, 1).length > 0;
      return any
        ? {
            id: e.id,
            status: 'unmatched',
            reason: 'outside_threshold',
            detail: `no impression of the device within ${t.windowSeconds} s before the call`,
          }
        : {
            id: e.id,
            status: 'unmatched',
            reason: 'no_device',
            detail: 'no impression was logged for this device before the call',
          };
    }
    // 2. The threshold, on time and/or duration.
    const inTime = (l: Impression) => e.startedAt - l.leaseStart <= windowMs;
    const longEnough = e.durationSeconds !== undefined && e.durationSeconds >= t.minDurationSeconds;
    const holds = (l: Impression) =>
      t.rule === 'time'
        ? inTime(l)
        : t.rule === 'duration'
          ? longEnough
          : t.rule === 'time-and-duration'
            ? inTime(l) && longEnough
            : inTime(l) || longEnough;
    const kept = logEntries.filter(holds);
    if (kept.length === 0) {
      const detail =
        !longEnough && !usesTime
          ? `the call lasted ${e.durationSeconds ?? 'an unknown time'}, under ${t.minDurationSeconds} s`
          : `no impression of the device satisfies the ${t.rule} threshold (T ${t.windowSeconds} s, D ${t.minDurationSeconds} s)`;
      return { id: e.id, status: 'unmatched', reason: 'outside_threshold', detail };
    }
    // A number dialled, when the entry has one, must be the log entry's.
    const candidates = e.number === undefined ? kept : kept.filter((l) => l.number === e.number);
    const log = candidates[0];
    if (!log)
      return {
        id: e.id,
        status: 'unmatched',
        reason: 'number_mismatch',
        detail: `no impression of the device showed ${e.number ?? ''}`,
      };
    // 3–4. The virtual number from the log entry, and the impression id through it.
    const impression =
      log.number === null ? log : (this.#impressions.holderAt(log.number, log.leaseStart) ?? log);
    return {
      id: e.id,
      status: 'matched',
      impressionId: impression.id,
      listingId: impression.listingId,
      number: log.number,
    };
  }
}
