/**
 * One call entry of a content provider (S3): entry id, device identifier,
 * number dialled when known, start time, duration, any other data. The same
 * shape from JSON and from CSV (where `data.<name>` columns fill `data`).
 */
import { z } from 'zod';
import { describeIssue } from '../validation.js';

export interface CallEntry {
  readonly id: string;
  readonly deviceId: string;
  readonly number: string | undefined;
  readonly startedAt: number;
  readonly durationSeconds: number | undefined;
  readonly data: Readonly<Record<string, unknown>>;
}

/** An ISO 8601 time with a zone (`2025-01-15T14:30:00Z`, `…+01:00`) or epoch milliseconds. */
const time = z.union([
  z.iso.datetime({
    offset: true,
    message: 'must be an ISO 8601 time with a zone, e.g. 2025-01-15T14:30:00Z',
  }),
  z.number().int().min(0).max(8.64e15),
]);

const entrySchema = z.strictObject({
  id: z.string().min(1).max(128),
  deviceId: z.string().min(1).max(128),
  number: z
    .string()
    .regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 number')
    .optional(),
  startedAt: time,
  durationSeconds: z.number().min(0).max(86_400).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

/** The CSV columns an entry may have; any other column is an error for the whole batch. */
export const CSV_COLUMNS = ['id', 'deviceId', 'number', 'startedAt', 'durationSeconds'] as const;

export type Parsed =
  { ok: true; entry: CallEntry } | { ok: false; id: string | undefined; reason: string };

/** How far in the future a start time may be (clock skew between the provider and us). */
const FUTURE_SLACK_MS = 5 * 60_000;

/** Validates one entry (a JSON value, or a CSV row made into an object). */
export function parseEntry(value: unknown, now: number): Parsed {
  const id =
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { id?: unknown }).id === 'string'
      ? (value as { id: string }).id
      : undefined;
  const parsed = entrySchema.safeParse(value);
  if (!parsed.success) return { ok: false, id, reason: describeIssue(parsed.error) };
  const e = parsed.data;
  const startedAt = typeof e.startedAt === 'number' ? e.startedAt : Date.parse(e.startedAt);
  if (!Number.isFinite(startedAt)) return { ok: false, id, reason: 'startedAt: not a real time' };
  if (startedAt > now + FUTURE_SLACK_MS)
    return { ok: false, id, reason: 'startedAt: in the future' };
  return {
    ok: true,
    entry: {
      id: e.id,
      deviceId: e.deviceId,
      number: e.number,
      startedAt,
      durationSeconds: e.durationSeconds,
      data: e.data ?? {},
    },
  };
}

/**
 * A CSV row (strings) as the JSON shape: empty cells are absent, the
 * duration and an all-digit start time become numbers, `data.x` goes into data.
 */
export function csvRowToValue(
  header: readonly string[],
  row: readonly string[],
): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  const data: Record<string, string> = {};
  header.forEach((column, i) => {
    const cell = row[i];
    if (cell === undefined || cell === '') return;
    if (column.startsWith('data.')) data[column.slice(5)] = cell;
    else if (column === 'durationSeconds')
      value[column] = /^\d+(\.\d+)?$/.test(cell) ? Number(cell) : cell;
    else if (column === 'startedAt' && /^\d+$/.test(cell)) value[column] = Number(cell);
    else value[column] = cell;
  });
  if (Object.keys(data).length > 0) value['data'] = data;
  return value;
}

/** Checks a CSV header: undefined when good, else what is wrong. */
export function checkCsvHeader(header: readonly string[]): string | undefined {
  const unknown = header.filter(
    (c) =>
      !(CSV_COLUMNS as readonly string[]).includes(c) && !/^data\.[A-Za-z0-9_.-]{1,64}$/.test(c),
  );
  if (unknown.length > 0)
    return `unknown column ${unknown.map((c) => `"${c}"`).join(', ')} (expected ${CSV_COLUMNS.join(', ')} or data.<name>)`;
  for (const required of ['id', 'deviceId', 'startedAt'])
    if (!header.includes(required)) return `the header has no "${required}" column`;
  if (new Set(header).size !== header.length) return 'the header names a column twice';
  return undefined;
}

export { describeIssue };
