/**
 * The words of each entry's answer: why an entry is unmatched, a set
 * outcome as a result, and a chunk's results in order with its duplicates
 * (of an earlier batch's entry, or of the chunk's own first occurrence).
 */
import type { CallEntry } from './entry.js';
import type { ChunkOutcome, Decided, EntryResult, MatchThreshold } from './match-types.js';
import type { StoredOutcome } from './store.js';

/** Per entry of the chunk in order: its outcome, or duplicate (of an earlier batch's, or of this chunk's first). */
export function answers(
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

export const noDevice = (e: CallEntry): Decided => ({
  id: e.id,
  status: 'unmatched',
  reason: 'no_device',
  detail: 'no impression was logged for this device before the call',
});

export const outsideWindow = (e: CallEntry, t: MatchThreshold): Decided => ({
  id: e.id,
  status: 'unmatched',
  reason: 'outside_threshold',
  detail: `no impression of the device within ${t.windowSeconds} s before the call`,
});

export const outsideRule = (e: CallEntry, t: MatchThreshold): Decided => ({
  id: e.id,
  status: 'unmatched',
  reason: 'outside_threshold',
  detail: `no impression of the device satisfies the ${t.rule} threshold (T ${t.windowSeconds} s, D ${t.minDurationSeconds} s; the call lasted ${e.durationSeconds ?? 'an unknown time'})`,
});

export const numberMismatch = (e: CallEntry): Decided => ({
  id: e.id,
  status: 'unmatched',
  reason: 'number_mismatch',
  detail: `no impression of the device showed ${e.number ?? ''}`,
});

/** An entry's answer from its outcome as a set (the same words as the row-wise path). */
export function resultOf(e: CallEntry, t: MatchThreshold, o: ChunkOutcome): Decided {
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
