/**
 * One call entry of a content provider (S3): entry id, device identifier,
 * number dialled when known, start time, duration, any other data. The same
 * shape from JSON and from CSV (where `data.<name>` columns fill `data`).
 */

export interface CallEntry {
  readonly id: string;
  readonly deviceId: string;
  readonly number: string | undefined;
  readonly startedAt: number;
  readonly durationSeconds: number | undefined;
  readonly data: Readonly<Record<string, unknown>>;
}

/** ISO 8601 with a zone: `2025-01-15T14:30:00Z`, `…14:30:00.250+01:00`. */
const ISO_TIME =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)$/;
const E164 = /^\+[1-9]\d{1,14}$/;
const FIELDS = new Set(['id', 'deviceId', 'number', 'startedAt', 'durationSeconds', 'data']);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= max;

/** The CSV columns an entry may have; any other column is an error for the whole batch. */
export const CSV_COLUMNS = ['id', 'deviceId', 'number', 'startedAt', 'durationSeconds'] as const;

export type Parsed =
  { ok: true; entry: CallEntry } | { ok: false; id: string | undefined; reason: string };

/**
 * An entry checked by every rule but the clock's: a failure found after its
 * start time was read carries it (`startedAt`), since "in the future" comes
 * first in the answer ({@link onClock}). The parsing worker checks this way.
 */
export type Checked =
  Parsed | { ok: false; id: string | undefined; reason: string; startedAt: number };

/** How far in the future a start time may be (clock skew between the provider and us). */
const FUTURE_SLACK_MS = 5 * 60_000;

/**
 * Validates one entry (a JSON value, or a CSV row made into an object).
 * Written out rather than a zod schema: zod's object and ISO-time checks cost
 * 20 µs an entry on the benchmark machine, the whole budget of 50,000
 * entries/s; these checks are the same rules at a tenth of that.
 */
export function parseEntry(value: unknown, now: number): Parsed {
  return onClock(checkEntry(value), now);
}

/** A checked entry against the clock: a start time past now + 5 min is the entry's fault, before any other after it. */
export function onClock(c: Checked, now: number): Parsed {
  const start = c.ok ? c.entry.startedAt : 'startedAt' in c ? c.startedAt : undefined;
  if (start === undefined || start <= now + FUTURE_SLACK_MS) return c;
  return { ok: false, id: c.ok ? c.entry.id : c.id, reason: 'startedAt: in the future' };
}

/**
 * Every rule of {@link parseEntry} but the clock's. No closure is made per
 * call (a `fail` helper was): under tsx (the benchmark, the tests) each arrow
 * function made is also named by esbuild's `__name`, which cost as much as
 * the checks themselves (profiled, 2026-12-07).
 */
export function checkEntry(value: unknown): Checked {
  if (!isObject(value))
    return { ok: false, id: undefined, reason: 'an entry must be a JSON object' };
  const id = typeof value['id'] === 'string' ? value['id'] : undefined;
  for (const key in value) if (!FIELDS.has(key)) return failed(id, `unknown field "${key}"`);
  if (!text(value['id'], 128)) return failed(id, 'id: a string of 1–128 characters is required');
  if (!text(value['deviceId'], 128))
    return failed(id, 'deviceId: a string of 1–128 characters is required');
  const number = value['number'];
  if (number !== undefined && !(typeof number === 'string' && E164.test(number)))
    return failed(id, 'number: must be an E.164 number');
  const raw = value['startedAt'];
  let startedAt: number;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 0 || raw > 8.64e15)
      return failed(id, 'startedAt: epoch milliseconds out of range');
    startedAt = raw;
  } else if (typeof raw === 'string' && ISO_TIME.test(raw)) {
    startedAt = Date.parse(raw);
    if (!Number.isFinite(startedAt) || !realDay(raw))
      return failed(id, 'startedAt: not a real time');
  } else {
    return failed(
      id,
      'startedAt: must be an ISO 8601 time with a zone, e.g. 2025-01-15T14:30:00Z, or epoch milliseconds',
    );
  }
  const duration = value['durationSeconds'];
  if (
    duration !== undefined &&
    !(typeof duration === 'number' && duration >= 0 && duration <= 86_400)
  )
    return {
      ok: false,
      id,
      reason: 'durationSeconds: must be a number of seconds from 0 to 86400',
      startedAt,
    };
  const data = value['data'];
  if (data !== undefined && !isObject(data))
    return { ok: false, id, reason: 'data: must be an object', startedAt };
  return {
    ok: true,
    entry: {
      id: value['id'],
      deviceId: value['deviceId'],
      number,
      startedAt,
      durationSeconds: duration,
      data: data ?? {},
    },
  };
}

/** A failure found before the start time was read. */
function failed(id: string | undefined, reason: string): Checked {
  return { ok: false, id, reason };
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether the YYYY-MM-DD at the start of an ISO time exists (Date.parse rolls 2025-02-30 over to March). */
function realDay(raw: string): boolean {
  const year = Number(raw.slice(0, 4));
  const month = Number(raw.slice(5, 7));
  const day = Number(raw.slice(8, 10));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0));
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
  let data: Record<string, string> | undefined;
  // A loop, not `forEach`: no closure a row (see checkEntry).
  for (let i = 0; i < header.length; i += 1) {
    const column = header[i] as string;
    const cell = row[i];
    if (cell === undefined || cell === '') continue;
    if (column.startsWith('data.')) (data ??= {})[column.slice(5)] = cell;
    else if (column === 'durationSeconds')
      value[column] = /^\d+(\.\d+)?$/.test(cell) ? Number(cell) : cell;
    else if (column === 'startedAt' && /^\d+$/.test(cell)) value[column] = Number(cell);
    else value[column] = cell;
  }
  if (data) value['data'] = data;
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
