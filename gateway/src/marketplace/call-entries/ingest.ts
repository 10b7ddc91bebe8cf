/**
 * A batch of call entries, streamed through: read (sources.ts), validated
 * (entry.ts), matched and stored in chunks (matcher.ts), each result given
 * back in the order of the batch. Memory stays at two chunks whatever the size.
 */
import { ParleyError, isParleyError } from '@parley/shared/errors';
import { onClock, parseEntry, type CallEntry } from './entry.js';
import type { EntryResult, MatchThreshold } from './match-types.js';
import type { CallEntryMatcher } from './matcher.js';
import type { SourceItem } from './sources.js';
import type { ParsedItem } from './worker-source.js';

/**
 * Entries written per transaction: large enough to amortise the commit and the
 * chunk's batched reads, small enough to stream (a chunk's results are held
 * until its commit; 2,048 against 512 measured 5-10 % more entries/s under load).
 */
export const CHUNK = 2048;

export type BatchResult =
  | ({ readonly at: string } & EntryResult)
  | {
      readonly at: string;
      readonly id?: string | undefined;
      readonly status: 'invalid';
      readonly reason: string;
    };

export interface BatchSummary {
  received: number;
  matched: number;
  unmatched: number;
  duplicate: number;
  invalid: number;
}

export interface IngestOptions {
  readonly matcher: CallEntryMatcher;
  readonly tenant: string;
  readonly threshold: MatchThreshold;
  readonly now: () => number;
}

/** Why a batch stopped: its reader (`bad_request`), or matching and storing (`entries_interrupted`). */
export interface BatchError {
  readonly at: string;
  readonly code: 'bad_request' | 'entries_interrupted';
  readonly reason: string;
}

type Pending = BatchResult | { at: string; entry: CallEntry };

/** A chunk given to the matcher, its outcome settled (never a rejection left unhandled while the next is read). */
interface InFlight {
  readonly pending: readonly Pending[];
  readonly results: Promise<{ ok: true; results: EntryResult[] } | { ok: false; error: unknown }>;
}

/**
 * Yields one result per entry; `done` carries the summary and a batch error,
 * if the reader or the matcher stopped on one. One chunk is in flight while
 * the next is read and checked (in PostgreSQL, the
 * matching and the parsing overlap); chunk N is awaited before chunk N+1 is
 * given to the matcher, and its results yielded right after, so chunks are
 * matched and stored strictly in order (an id repeated in the next chunk is
 * answered `duplicate`) and memory stays at two chunks and one chunk's results.
 */
export async function* ingest(
  source: AsyncIterable<SourceItem | ParsedItem>,
  o: IngestOptions,
): AsyncGenerator<BatchResult, { summary: BatchSummary; error: BatchError | null }> {
  const summary: BatchSummary = { received: 0, matched: 0, unmatched: 0, duplicate: 0, invalid: 0 };
  const chunk = o.matcher.chunkSize ?? CHUNK;
  let error: BatchError | null = null;
  let pending: Pending[] = [];
  let valid = 0;
  let inFlight: InFlight | undefined;
  /** The batch error is the reader's (`bad_request`, or its thread died): what came before it is still matched. */
  let readerStopped = false;

  const start = (chunk: readonly Pending[]): InFlight => {
    const entries = chunk.flatMap((p) => ('entry' in p ? [p.entry] : []));
    const results =
      entries.length > 0
        ? o.matcher.processChunk(o.tenant, entries, o.threshold, o.now())
        : Promise.resolve([]);
    return {
      pending: chunk,
      results: results.then(
        (results) => ({ ok: true as const, results }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    };
  };
  /**
   * The chunk in flight's results, in order; undefined when it failed (the
   * batch error set). An array yielded here by `ingest` itself: each level of
   * `yield*` between a result and the reader (a `settle` inside a `flush`)
   * cost an await a result.
   */
  const settle = async (): Promise<BatchResult[] | undefined> => {
    if (!inFlight) return [];
    const { pending: chunk, results: settled } = inFlight;
    inFlight = undefined;
    const outcome = await settled;
    if (!outcome.ok) {
      error = {
        at: chunk[0]?.at ?? '',
        code: 'entries_interrupted',
        reason: isParleyError(outcome.error)
          ? outcome.error.message
          : new ParleyError('entries_interrupted', String(outcome.error)).message,
      };
      return undefined;
    }
    const out: BatchResult[] = new Array<BatchResult>(chunk.length);
    let r = 0;
    for (let i = 0; i < chunk.length; i += 1) {
      const p = chunk[i] as Pending;
      const result: BatchResult =
        'entry' in p ? { at: p.at, ...(outcome.results[r++] as EntryResult) } : p;
      summary[result.status] += 1;
      out[i] = result;
    }
    return out;
  };
  /** The chunk in flight answered, then the chunk read so far put in flight; undefined when the first failed. */
  const flush = async (): Promise<BatchResult[] | undefined> => {
    const answered = await settle();
    if (!answered) return undefined;
    if (pending.length > 0) inFlight = start(pending);
    pending = [];
    valid = 0;
    return answered;
  };

  for await (const item of source) {
    if (item.kind === 'batch-error') {
      error = {
        at: item.at,
        code: ('code' in item ? item.code : undefined) ?? 'bad_request',
        reason: item.reason,
      };
      readerStopped = true;
      break;
    }
    summary.received += 1;
    if (item.kind === 'row-error') {
      pending.push({ at: item.at, status: 'invalid', reason: item.reason });
    } else {
      const parsed =
        item.kind === 'value' ? parseEntry(item.value, o.now()) : onClock(item.checked, o.now());
      if (parsed.ok) {
        pending.push({ at: item.at, entry: parsed.entry });
        valid += 1;
      } else pending.push({ at: item.at, id: parsed.id, status: 'invalid', reason: parsed.reason });
    }
    if (valid >= chunk || pending.length >= chunk * 4) {
      const answered = await flush();
      if (!answered) break;
      for (const result of answered) yield result;
    }
  }
  // What was read before a reader's error is still matched and answered before it is reported.
  if (error === null || readerStopped) {
    const answered = await flush();
    if (answered) {
      for (const result of answered) yield result;
      const last = await settle();
      if (last) for (const result of last) yield result;
    }
  }
  return { summary, error };
}
