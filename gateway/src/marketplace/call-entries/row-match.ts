/**
 * The row-wise matcher (`CallEntryMatcher` without a `ChunkMatch`; the
 * benchmark's `--entries-path rows`): batched reads of the log, the rule
 * applied in JavaScript, then the entries stored. Kept as the reference the
 * set paths are checked against (`matcher-cases.ts`).
 */
import type { ImpressionStore, LogEntry } from '../impression-store.js';
import { noDevice, numberMismatch, outsideRule, outsideWindow } from './answers.js';
import type { CallEntry } from './entry.js';
import {
  MAX_LOG_ENTRIES,
  type ChunkResults,
  type Decided,
  type MatchThreshold,
} from './match-types.js';
import type { CallEntryStore } from './store.js';

type Selection = Decided | LogEntry;

/**
 * The chunk's new entries (`fresh`, indexes of their first occurrence)
 * matched with batched reads of the log, row by row, then stored: one query
 * for the log entries of all the chunk's devices, one for the first log entry
 * of the devices with none in the window (was the device seen before it?),
 * one for the lookups through the numbers (per-entry queries cost three times
 * as much, measured); only a device with more log entries than the batch read
 * keeps is asked on its own. The impression log is read first (it may be the
 * shared PostgreSQL one); then the entries' store writes, in one transaction,
 * the entries whose ids are new and answers the others' earlier outcome, so a
 * repeated id is answered `duplicate` even when two batches (or two gateways)
 * race.
 */
export async function matchByRows(
  impressions: ImpressionStore,
  store: CallEntryStore,
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
    const logs = await impressions.logEntriesOfDevices(
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
        logEntries = await impressions.logEntries(
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
      const firsts = await impressions.firstLogEntryStarts(tenant, [
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
    const found = await impressions.impressionIdsAt(
      withNumber.map(([, log]) => [log.number ?? '', log.leaseStart] as const),
    );
    for (const [k, [i, log]] of withNumber.entries()) {
      const id = found[k] ?? log.id;
      // Normally the log entry itself; another impression only if the number was leased again at that instant.
      through.set(
        i,
        id === log.id
          ? { id, listingId: log.listingId }
          : ((await impressions.impressionIdAt(log.number ?? '', log.leaseStart)) ?? log),
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
    } else decided.set(i, o ?? { id: e.id, status: 'unmatched', reason: 'no_device', detail: '' });
  }
  // 5. The entries' data, stored with the impressions: the ids stored before are not written.
  const stored = await store.insertNew(
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
