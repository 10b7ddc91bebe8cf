/**
 * Business hours of a queue: weekly opening ranges in local time of an IANA time
 * zone, plus closed local dates. The local wall-clock time of an instant comes
 * from Intl (the ICU time zone database Node ships), so daylight-saving changes
 * are right without any offset arithmetic of ours: on a spring-forward day the
 * skipped local hour simply never occurs, on a fall-back day the repeated hour
 * occurs twice and is open both times if a range covers it.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** `HH:MM`, 24-hour; `24:00` is allowed as the end of a range that runs to midnight. */
export type LocalTime = string;
export type OpeningRange = readonly [start: LocalTime, end: LocalTime];

export interface BusinessHours {
  /** IANA time zone, e.g. `Europe/Berlin`. */
  readonly timeZone: string;
  /** Opening ranges per weekday; a day not listed is closed. Ranges may not cross midnight. */
  readonly weekly: Readonly<Partial<Record<Weekday, readonly OpeningRange[]>>>;
  /** Local dates (`YYYY-MM-DD`) closed all day, e.g. public holidays. */
  readonly closed?: readonly string[];
}

/** Validated business hours, ready to answer {@link CompiledBusinessHours.isOpen}. */
export interface CompiledBusinessHours {
  readonly timeZone: string;
  /** Whether the queue is open at `instant` (ms since the epoch). */
  isOpen(instant: number): boolean;
  /** Local weekday, date and time of `instant`, for log details: `sat 2026-03-07 08:30`. */
  describe(instant: number): string;
}

interface LocalMoment {
  readonly weekday: Weekday;
  readonly date: string;
  /** Minutes since local midnight. */
  readonly minute: number;
  readonly time: string;
}

const WEEKDAY_BY_NAME: Readonly<Record<string, Weekday>> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

/**
 * Validates `hours` and prepares it. Throws a RangeError naming the field
 * (relative to `path`) when the time zone, a day, a range or a date is wrong.
 */
export function compileBusinessHours(
  hours: BusinessHours,
  path = 'businessHours',
): CompiledBusinessHours {
  if (typeof hours !== 'object' || hours === null) {
    throw new RangeError(`${path} must be an object`);
  }
  const formatter = timeZoneFormatter(hours.timeZone, `${path}.timeZone`);
  if (typeof hours.weekly !== 'object' || hours.weekly === null) {
    throw new RangeError(`${path}.weekly must be an object of weekday → ranges`);
  }
  const ranges = new Map<Weekday, [number, number][]>();
  for (const [day, dayRanges] of Object.entries(hours.weekly)) {
    if (!(WEEKDAYS as readonly string[]).includes(day)) {
      throw new RangeError(`${path}.weekly.${day}: not a weekday (use ${WEEKDAYS.join(', ')})`);
    }
    if (dayRanges === undefined) continue;
    if (!Array.isArray(dayRanges)) {
      throw new RangeError(`${path}.weekly.${day} must be a list of [start, end] ranges`);
    }
    ranges.set(
      day as Weekday,
      dayRanges.map((range, index) => parseRange(range, `${path}.weekly.${day}[${index}]`)),
    );
  }
  const closed = new Set<string>();
  for (const [index, date] of (hours.closed ?? []).entries()) {
    if (!isLocalDate(date)) {
      throw new RangeError(`${path}.closed[${index}]: "${String(date)}" is not a date YYYY-MM-DD`);
    }
    closed.add(date);
  }
  const localMoment = (instant: number): LocalMoment => localMomentOf(formatter, instant);
  return {
    timeZone: hours.timeZone,
    isOpen(instant) {
      const local = localMoment(instant);
      if (closed.has(local.date)) return false;
      return (ranges.get(local.weekday) ?? []).some(
        ([start, end]) => start <= local.minute && local.minute < end,
      );
    },
    describe(instant) {
      const local = localMoment(instant);
      return `${local.weekday} ${local.date} ${local.time} ${hours.timeZone}`;
    },
  };
}

function timeZoneFormatter(timeZone: unknown, path: string): Intl.DateTimeFormat {
  if (typeof timeZone !== 'string' || timeZone.length === 0) {
    throw new RangeError(`${path} must be an IANA time zone such as "Europe/Berlin"`);
  }
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
  } catch {
    throw new RangeError(`${path}: "${timeZone}" is not a known IANA time zone`);
  }
}

function localMomentOf(formatter: Intl.DateTimeFormat, instant: number): LocalMoment {
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(instant)) parts[part.type] = part.value;
  const hour = Number(parts.hour) % 24;
  const minute = Number(parts.minute);
  const time = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
  return {
    weekday: WEEKDAY_BY_NAME[parts.weekday ?? ''] ?? 'mon',
    date: `${parts.year}-${parts.month}-${parts.day}`,
    minute: hour * 60 + minute,
    time,
  };
}

function parseRange(range: unknown, path: string): [number, number] {
  if (!Array.isArray(range) || range.length !== 2) {
    throw new RangeError(`${path} must be a [start, end] pair such as ['09:00', '17:30']`);
  }
  const [startText, endText] = range as unknown[];
  const start = parseTime(startText, false, `${path}[0]`);
  const end = parseTime(endText, true, `${path}[1]`);
  if (end <= start) {
    throw new RangeError(
      `${path}: ['${String(startText)}', '${String(endText)}'] ends before it starts; ranges may not ` +
        `cross midnight, split it into [start, '24:00'] and ['00:00', end] on the next day`,
    );
  }
  return [start, end];
}

function parseTime(text: unknown, isEnd: boolean, path: string): number {
  if (isEnd && text === '24:00') return 24 * 60;
  const match = typeof text === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text) : null;
  if (!match) {
    throw new RangeError(
      `${path}: "${String(text)}" is not a time HH:MM from 00:00 to 23:59${isEnd ? ' (or 24:00)' : ''}`,
    );
  }
  return Number(match[1]) * 60 + Number(match[2]);
}

function isLocalDate(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}
