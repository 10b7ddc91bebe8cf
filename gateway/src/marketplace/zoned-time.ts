import { WEEKDAYS, type Schedule, type Weekday } from './model.js';

/** A moment as a time zone sees it. */
export interface LocalTime {
  /** 0 = Sunday. */
  readonly weekday: number;
  /** Minutes since local midnight. */
  readonly minute: number;
  /** `YYYY-MM-DD`. */
  readonly day: string;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formats.set(timeZone, f);
  }
  return f;
}

/** Whether the name is an IANA time zone this runtime knows. */
export function isTimeZone(name: string): boolean {
  try {
    format(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Local time in a zone, cached per zone and minute: Intl's formatToParts costs
 * microseconds, and an auction asks for the same few zones thousands of times
 * within one minute.
 */
export class ZonedClock {
  readonly #cache = new Map<string, { minute: number; local: LocalTime }>();

  local(timeZone: string, ms: number): LocalTime {
    const minute = Math.floor(ms / 60_000);
    const hit = this.#cache.get(timeZone);
    if (hit && hit.minute === minute) return hit.local;
    const parts: Record<string, string> = {};
    for (const p of format(timeZone).formatToParts(ms)) parts[p.type] = p.value;
    const weekday = WEEKDAYS.indexOf((parts['weekday'] ?? 'Sun').toLowerCase() as Weekday);
    const local: LocalTime = {
      weekday,
      minute: Number(parts['hour']) * 60 + Number(parts['minute']),
      day: `${parts['year']}-${parts['month']}-${parts['day']}`,
    };
    this.#cache.set(timeZone, { minute, local });
    return local;
  }

  day(timeZone: string, ms: number): string {
    return this.local(timeZone, ms).day;
  }
}

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** A schedule compiled to a predicate on time: null means always open. */
export function compileSchedule(
  schedule: Schedule | null,
  clock: ZonedClock,
): (ms: number) => boolean {
  if (schedule === null) return () => true;
  // One bit set per open minute of the week (7 × 1440 bits): a lookup per check.
  const open = new Uint8Array(7 * 1440);
  for (const w of schedule.windows) {
    const from = minutesOf(w.from);
    const to = minutesOf(w.to);
    for (const d of w.days) {
      const base = WEEKDAYS.indexOf(d) * 1440;
      open.fill(1, base + from, base + to);
    }
  }
  const zone = schedule.timeZone;
  return (ms) => {
    const local = clock.local(zone, ms);
    return open[local.weekday * 1440 + local.minute] === 1;
  };
}
