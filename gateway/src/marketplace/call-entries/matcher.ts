/**
 * S3 as claimed: for each call entry of a content provider, (1) find the log
 * entries (impressions) with the same device identifier, (2) keep those where
 * the predetermined threshold holds (the call started within T of the
 * impression, and/or lasted at least D), (3) take the virtual number from the
 * log entry, (4) look up the impression id through that number, (5) store the
 * entry's data with the impression. Idempotent by entry id.
 */
import type { ImpressionStore, LogEntry } from '../impression-store.js';
import type { CallEntry } from './entry.js';
import type { CallEntryStore, StoredOutcome } from './store.js';

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
export const MAX_LOG_ENTRIES = 50;

/** How an entry came out of matching, before the words of its answer. */
export type MatchKind =
  'matched' | 'no_device' | 'outside_window' | 'outside_rule' | 'number_mismatch';

/** One entry of a chunk matched as a set: its kind and impression, or what it was answered before. */
export interface ChunkOutcome {
  readonly kind: MatchKind;
  readonly impressionId: string | null;
  readonly listingId: string | null;
  /** The log entry's virtual number. */
  readonly number: string | null;
  readonly previous: StoredOutcome | null;
}

/**
 * Matching and storing a chunk as sets where the impression log and the
 * entries share a database (`sqlite-chunk-match.ts`,
 * `../postgres/pg-chunk-match.ts`): in one transaction, per
 * entry (ids distinct) in order, its outcome by the same rule as the
 * row-wise path below, stored unless its id was.
 */
export interface ChunkMatch {
  /** Entries a chunk, when not `ingest.ts`'s (tests give small ones, to cross chunks with few entries). */
  readonly chunkSize?: number;
  matchAndStore(
    tenant: string,
    entries: readonly CallEntry[],
    t: MatchThreshold,
    now: number,
  ): Promise<ChunkOutcome[]>;
}

type Decided = Exclude<EntryResult, { status: 'duplicate' }>;

/** A chunk's new entries decided (by index) and its repeats' stored outcomes (by entry id). */
interface ChunkResults {
  decided: Map<number, Decided>;
  stored: Map<string, StoredOutcome>;
}

export class CallEntryMatcher {
  readonly #impressions: ImpressionStore;
  readonly #store: CallEntryStore;
  readonly #sets: ChunkMatch | undefined;

  constructor(impressions: ImpressionStore, store: CallEntryStore, sets?: ChunkMatch) {
    this.#impressions = impressions;
    this.#store = store;
    this.#sets = sets;
  }

  /** Entries a chunk, when the set path wants its own. */
  get chunkSize(): number | undefined {
    return this.#sets?.chunkSize;
  }

  /**
   * Matches and stores a chunk of valid entries. The chunk's reads are
   * batched: one query for the log entries of all its devices, one for the
   * first log entry of the devices with none in the window (was the device
   * seen before it?), one for the lookups through the numbers (per-entry
   * queries cost three times as much, measured); only a device with more log
   * entries than the batch read keeps is asked on its own. The impression log is read first (it may be the shared
   * PostgreSQL one); then the entries' store writes, in one transaction, the
   * entries whose ids are new and answers the others' earlier outcome, so a
   * repeated id is answered `duplicate` even when two batches (or two
   * gateways) race.
   */
  async processChunk(
    tenant: string,
    entries: readonly CallEntry[],
    t: MatchThreshold,
    now: number,
  ): Promise<EntryResult[]> {
    // Every entry's first occurrence in the chunk is matched; the store decides which are new.
    const first = new Map<string, number>();
    const fresh: number[] = [];
    entries.forEach((e, i) => {
      if (first.has(e.id)) return;
      first.set(e.id, i);
      fresh.push(i);
    });
    const { decided, stored } = this.#sets
      ? await this.#bySets(tenant, entries, fresh, t, now)
      : await this.#byRows(tenant, entries, fresh, t, now);
    return answers(entries, first, decided, stored);
  }

  /** The chunk matched and stored as sets (`ChunkMatch`). */
  async #bySets(
    tenant: string,
    entries: readonly CallEntry[],
    fresh: readonly number[],
    t: MatchThreshold,
    now: number,
  ): Promise<ChunkResults> {
    const chunk = fresh.map((i) => entries[i] as CallEntry);
    const outcomes = await (this.#sets as ChunkMatch).matchAndStore(tenant, chunk, t, now);
    const decided = new Map<number, Decided>();
    const stored = new Map<string, StoredOutcome>();
    outcomes.forEach((o, k) => {
      const e = chunk[k] as CallEntry;
      if (o.previous) stored.set(e.id, o.previous);
      else decided.set(fresh[k] as number, resultOf(e, t, o));
    });
    return { decided, stored };
  }

  /** The chunk matched with batched reads of the log, row by row, then stored. */
  async #byRows(
    tenant: string,
    entries: readonly CallEntry[],
    fresh: readonly number[],
    t: MatchThreshold,
    now: number,
  ): Promise<ChunkResults> {
    const windowMs = t.windowSeconds * 1000;
    const timeBound = t.rule === 'time' || t.rule === 'time-and-duration';
    const at = (i: number) => entries[i] as CallEntry;
    const outcomes = new Map<number, Selection>();
    const through = new Map<number, { id: string; listingId: string } | undefined>();
    if (fresh.length > 0) {
      const starts = fresh.map((i) => at(i).startedAt);
      const since = timeBound ? Math.min(...starts) - windowMs : 0;
      const until = Math.max(...starts);
      const devices = [...new Set(fresh.map((i) => at(i).deviceId))];
      const logs = await this.#impressions.logEntriesOfDevices(
        tenant,
        devices,
        since,
        until,
        MAX_LOG_ENTRIES,
      );
      // 1–2. Per entry: the device's log entries before the call, and the threshold.
      const earlier: number[] = [];
      for (const i of fresh) {
        const e = at(i);
        const deviceLog = logs.get(e.deviceId) ?? [];
        const since = timeBound ? e.startedAt - windowMs : 0;
        let logEntries = deviceLog.filter(
          (l) => l.leaseStart <= e.startedAt && l.leaseStart >= since,
        );
        // The batch read keeps the newest few per device up to the chunk's last start: when it
        // was cut, an entry with fewer than that many in its own window asks on its own (its
        // window may hold older ones the batch did not read).
        if (logEntries.length < MAX_LOG_ENTRIES && deviceLog.length >= MAX_LOG_ENTRIES)
          logEntries = await this.#impressions.logEntries(
            tenant,
            e.deviceId,
            since,
            e.startedAt,
            MAX_LOG_ENTRIES,
          );
        if (logEntries.length > 0) outcomes.set(i, select(e, t, logEntries));
        else if (deviceLog.some((l) => l.leaseStart <= e.startedAt))
          outcomes.set(i, outsideWindow(e, t));
        // Seen before the window? Asked below for the chunk's devices at once.
        else if (since > 0) earlier.push(i);
        else outcomes.set(i, noDevice(e));
      }
      if (earlier.length > 0) {
        const firsts = await this.#impressions.firstLogEntryStarts(tenant, [
          ...new Set(earlier.map((i) => at(i).deviceId)),
        ]);
        for (const i of earlier) {
          const e = at(i);
          const first = firsts.get(e.deviceId);
          outcomes.set(
            i,
            first !== undefined && first <= e.startedAt ? outsideWindow(e, t) : noDevice(e),
          );
        }
      }
      // 3–4. The virtual number of each kept log entry, and the impression id through it.
      const chosen = [...outcomes].filter((o): o is [number, LogEntry] => 'leaseStart' in o[1]);
      const withNumber = chosen.filter(([, log]) => log.number !== null);
      const found = await this.#impressions.impressionIdsAt(
        withNumber.map(([, log]) => [log.number ?? '', log.leaseStart] as const),
      );
      for (const [k, [i, log]] of withNumber.entries()) {
        const id = found[k] ?? log.id;
        // Normally the log entry itself; another impression only if the number was leased again at that instant.
        through.set(
          i,
          id === log.id
            ? { id, listingId: log.listingId }
            : ((await this.#impressions.impressionIdAt(log.number ?? '', log.leaseStart)) ?? log),
        );
      }
    }
    // Each new entry's outcome, decided before the store says which ids are new.
    const decided = new Map<number, Decided>();
    for (const i of fresh) {
      const e = at(i);
      const o = outcomes.get(i);
      if (o && 'leaseStart' in o) {
        const impression = through.get(i) ?? { id: o.id, listingId: o.listingId };
        decided.set(i, {
          id: e.id,
          status: 'matched',
          impressionId: impression.id,
          listingId: impression.listingId,
          number: o.number,
        });
      } else
        decided.set(i, o ?? { id: e.id, status: 'unmatched', reason: 'no_device', detail: '' });
    }
    // 5. The entries' data, stored with the impressions: the ids stored before are not written.
    const stored = await this.#store.insertNew(
      tenant,
      fresh.map((i) => {
        const e = at(i);
        const result = decided.get(i);
        return {
          tenant,
          entryId: e.id,
          status: result?.status ?? 'unmatched',
          reason: result?.status === 'unmatched' ? result.reason : null,
          impressionId: result?.status === 'matched' ? result.impressionId : null,
          deviceId: e.deviceId,
          number: e.number ?? null,
          startedAt: e.startedAt,
          durationSeconds: e.durationSeconds ?? null,
          data: JSON.stringify(e.data),
          receivedAt: now,
        };
      }),
    );
    return { decided, stored };
  }
}

/** Per entry of the chunk in order: its outcome, or duplicate (of an earlier batch's, or of this chunk's first). */
function answers(
  entries: readonly CallEntry[],
  first: ReadonlyMap<string, number>,
  decided: ReadonlyMap<number, Decided>,
  stored: ReadonlyMap<string, StoredOutcome>,
): EntryResult[] {
  const results: EntryResult[] = [];
  entries.forEach((e, i) => {
    const before = stored.get(e.id);
    if (before) {
      results.push({
        id: e.id,
        status: 'duplicate',
        previous: {
          status: before.status,
          impressionId: before.impressionId,
          reason: before.reason,
        },
      });
      return;
    }
    const firstIndex = first.get(e.id) ?? i;
    if (firstIndex !== i) {
      const earlier = results[firstIndex];
      const previous =
        earlier?.status === 'matched'
          ? { status: 'matched' as const, impressionId: earlier.impressionId, reason: null }
          : {
              status: 'unmatched' as const,
              impressionId: null,
              reason: earlier?.status === 'unmatched' ? earlier.reason : null,
            };
      results.push({ id: e.id, status: 'duplicate', previous });
      return;
    }
    results.push(
      decided.get(i) ?? { id: e.id, status: 'unmatched', reason: 'no_device', detail: '' },
    );
  });
  return results;
}

type Selection = Exclude<EntryResult, { status: 'duplicate' }> | LogEntry;

const noDevice = (e: CallEntry): Decided => ({
  id: e.id,
  status: 'unmatched',
  reason: 'no_device',
  detail: 'no impression was logged for this device before the call',
});

const outsideWindow = (e: CallEntry, t: MatchThreshold): Decided => ({
  id: e.id,
  status: 'unmatched',
  reason: 'outside_threshold',
  detail: `no impression of the device within ${t.windowSeconds} s before the call`,
});

/** Step 2: of the device's log entries in the window, newest first, the one the entry matches, or why none does. */
function select(e: CallEntry, t: MatchThreshold, logEntries: readonly LogEntry[]): Selection {
  const windowMs = t.windowSeconds * 1000;
  const inTime = (l: LogEntry) => e.startedAt - l.leaseStart <= windowMs;
  const longEnough = e.durationSeconds !== undefined && e.durationSeconds >= t.minDurationSeconds;
  const holds = (l: LogEntry) =>
    t.rule === 'time'
      ? inTime(l)
      : t.rule === 'duration'
        ? longEnough
        : t.rule === 'time-and-duration'
          ? inTime(l) && longEnough
          : inTime(l) || longEnough;
  const kept = logEntries.filter(holds);
  if (kept.length === 0) return outsideRule(e, t);
  // A number dialled, when the entry has one, must be the log entry's.
  const log = e.number === undefined ? kept[0] : kept.find((l) => l.number === e.number);
  return log ?? numberMismatch(e);
}

const outsideRule = (e: CallEntry, t: MatchThreshold): Decided => ({
  id: e.id,
  status: 'unmatched',
  reason: 'outside_threshold',
  detail: `no impression of the device satisfies the ${t.rule} threshold (T ${t.windowSeconds} s, D ${t.minDurationSeconds} s; the call lasted ${e.durationSeconds ?? 'an unknown time'})`,
});

const numberMismatch = (e: CallEntry): Decided => ({
  id: e.id,
  status: 'unmatched',
  reason: 'number_mismatch',
  detail: `no impression of the device showed ${e.number ?? ''}`,
});

/** An entry's answer from its outcome as a set (the same words as the row-wise path). */
function resultOf(e: CallEntry, t: MatchThreshold, o: ChunkOutcome): Decided {
  switch (o.kind) {
    case 'matched':
      return {
        id: e.id,
        status: 'matched',
        impressionId: o.impressionId ?? '',
        listingId: o.listingId ?? '',
        number: o.number,
      };
    case 'outside_rule':
      return outsideRule(e, t);
    case 'number_mismatch':
      return numberMismatch(e);
    case 'outside_window':
      return outsideWindow(e, t);
    case 'no_device':
      return noDevice(e);
  }
}
