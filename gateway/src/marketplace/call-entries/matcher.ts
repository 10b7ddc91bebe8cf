/**
 * S3 as claimed: for each call entry of a content provider, (1) find the log
 * entries (impressions) with the same device identifier, (2) keep those where
 * the predetermined threshold holds (the call started within T of the
 * impression, and/or lasted at least D), (3) take the virtual number from the
 * log entry, (4) look up the impression id through that number, (5) store the
 * entry's data with the impression. Idempotent by entry id.
 *
 * A chunk is matched as a set where the log and the entries share a database
 * (`ChunkMatch`: `sqlite-chunk-match.ts`, `../postgres/pg-chunk-match.ts`), or
 * row-wise (`row-match.ts`, the reference); its answers, duplicates included,
 * in `answers.ts`; the words in `match-types.ts`.
 */
import type { ImpressionStore } from '../impression-store.js';
import { answers, resultOf } from './answers.js';
import type { CallEntry } from './entry.js';
import type {
  ChunkMatch,
  ChunkResults,
  Decided,
  EntryResult,
  MatchThreshold,
} from './match-types.js';
import { matchByRows } from './row-match.js';
import type { CallEntryStore, StoredOutcome } from './store.js';

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
   * Matches and stores a chunk of valid entries: every entry's first
   * occurrence in the chunk is matched, and the store decides which are new
   * (a repeated id is answered `duplicate` even when two batches, or two
   * gateways, race).
   */
  async processChunk(
    tenant: string,
    entries: readonly CallEntry[],
    t: MatchThreshold,
    now: number,
  ): Promise<EntryResult[]> {
    const first = new Map<string, number>();
    const fresh: number[] = [];
    entries.forEach((e, i) => {
      if (first.has(e.id)) return;
      first.set(e.id, i);
      fresh.push(i);
    });
    const { decided, stored } = this.#sets
      ? await this.#bySets(this.#sets, tenant, entries, fresh, t, now)
      : await matchByRows(this.#impressions, this.#store, tenant, entries, fresh, t, now);
    return answers(entries, first, decided, stored);
  }

  /** The chunk matched and stored as sets (`ChunkMatch`). */
  async #bySets(
    sets: ChunkMatch,
    tenant: string,
    entries: readonly CallEntry[],
    fresh: readonly number[],
    t: MatchThreshold,
    now: number,
  ): Promise<ChunkResults> {
    const chunk = fresh.map((i) => entries[i] as CallEntry);
    const outcomes = await sets.matchAndStore(tenant, chunk, t, now);
    const decided = new Map<number, Decided>();
    const stored = new Map<string, StoredOutcome>();
    outcomes.forEach((o, k) => {
      const e = chunk[k] as CallEntry;
      if (o.previous) stored.set(e.id, o.previous);
      else decided.set(fresh[k] as number, resultOf(e, t, o));
    });
    return { decided, stored };
  }
}
