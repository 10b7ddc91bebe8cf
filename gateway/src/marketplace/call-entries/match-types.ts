/**
 * The words of call-entry matching (S3), shared by the matcher
 * (`matcher.ts`), its row-wise path (`row-match.ts`), the answers
 * (`answers.ts`) and the set paths (`sqlite-chunk-match.ts`,
 * `../postgres/pg-chunk-match.ts`): the threshold, an entry's result, a
 * chunk's outcome as a set.
 */
import type { CallEntry } from './entry.js';
import type { StoredOutcome } from './store.js';

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

/** An entry's result when it was not stored before: matched, or unmatched and why. */
export type Decided = Exclude<EntryResult, { status: 'duplicate' }>;

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
 * row-wise path (`row-match.ts`), stored unless its id was.
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

/** A chunk's new entries decided (by index) and its repeats' stored outcomes (by entry id). */
export interface ChunkResults {
  readonly decided: Map<number, Decided>;
  readonly stored: Map<string, StoredOutcome>;
}
